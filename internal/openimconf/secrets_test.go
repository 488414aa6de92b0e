package openimconf

import (
	"errors"
	"testing"
)

// TestRedactErr: a password never reaches a log through an error; an error
// without one keeps its identity (errors.Is still works).
func TestRedactErr(t *testing.T) {
	err := RedactErr(errors.New("SASL as u:s3cret failed; s3cret again, pw2"), "s3cret", "", "pw2")
	if got := err.Error(); got != "SASL as u:*** failed; *** again, ***" {
		t.Errorf("got %q", got)
	}
	if RedactErr(nil, "x") != nil {
		t.Error("nil error changed")
	}
	orig := errors.New("connection refused")
	if got := RedactErr(orig, "s3cret"); got != orig {
		t.Errorf("an error without the secret was replaced: %v", got)
	}
}
