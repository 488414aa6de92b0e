package openimconf

import (
	"errors"
	"strings"
)

// RedactErr replaces each of secrets (a password from OpenIM's config) in
// err's text with "***", for an error about to be logged or reported: a
// client library may quote a connection string or a login. Empty secrets
// are skipped; any other is replaced however short, since leaking it is
// worse than a garbled message.
func RedactErr(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	changed := false
	for _, v := range secrets {
		if v != "" && strings.Contains(s, v) {
			s, changed = strings.ReplaceAll(s, v, "***"), true
		}
	}
	if !changed {
		return err
	}
	return errors.New(s)
}
