package cli

// Exit codes of openim-supervisor. Package scripts and service managers rely on
// them; keep them stable and documented in README.md.
const (
	ExitOK          = 0 // success
	ExitError       = 1 // a command failed (see the message)
	ExitUsage       = 2 // bad flags or arguments
	ExitConfig      = 3 // the config file is invalid (message names file:line and key)
	ExitNotRunning  = 4 // the supervisor is not running (control commands)
	ExitRefused     = 5 // upgrade refused: downgrade, unsupported source or unknown target
	ExitMigration   = 6 // an upgrade step failed; data is untouched or resumable
	ExitLocked      = 7 // another upgrade holds the lock and did not finish in time
	ExitNotFound    = 8 // a named process or instance does not exist
	ExitUnsupported = 9 // the command is not available on this OS
)

// exitError carries an exit code through cobra's error return to Execute, the
// only place that picks the process's exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode attaches an exit code to err (nil stays nil).
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}
