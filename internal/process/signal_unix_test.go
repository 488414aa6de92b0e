//go:build unix

package process

import (
	"syscall"
	"testing"
)

func TestParseSignalNames(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want syscall.Signal
	}{{"TERM", syscall.SIGTERM}, {"SIGINT", syscall.SIGINT}, {"kill", syscall.SIGKILL}, {"", syscall.SIGTERM}} {
		if got, err := ParseSignal(c.in); err != nil || got != c.want {
			t.Errorf("ParseSignal(%q) = %v, %v", c.in, got, err)
		}
	}
	if _, err := ParseSignal("NOPE"); err == nil {
		t.Error("ParseSignal(NOPE) succeeded")
	}
}
