package cli

import (
	"fmt"
	"strings"
)

// Exit codes of openim-supervisor: one table for every command. Package
// scripts, service managers and monitoring rely on them; keep them stable.
// README.md's table is checked against exitCodeTable by a test.
const (
	ExitOK          = 0  // success
	ExitError       = 1  // a command failed (see the message)
	ExitUsage       = 2  // bad flags or arguments, unknown command
	ExitConfig      = 3  // the config file is invalid or unsafe (message names file:line and key)
	ExitNotRunning  = 4  // the supervisor is not running (control commands)
	ExitRefused     = 5  // upgrade refused: downgrade, unsupported source or unknown target
	ExitMigration   = 6  // an upgrade step failed; data is untouched or resumable
	ExitLocked      = 7  // another upgrade holds the lock and did not finish in time
	ExitNotFound    = 8  // a named process or instance does not exist
	ExitUnsupported = 9  // the command is not available on this OS
	ExitNotUp       = 10 // status: not every instance is up yet, none failed
	ExitCheckFailed = 11 // doctor or service install: a check failed
	// ExitConfigVersion: the OpenIM config dir is written for another OpenIM
	// version than the one this binary ships; the message names the command
	// that migrates it (`openim-supervisor config upgrade` or `config import`).
	ExitConfigVersion = 12
)

// exitCodeTable is the documented meaning of every exit code, in order.
var exitCodeTable = []struct {
	Code    int
	Meaning string
}{
	{ExitOK, "success; for `status`: every selected instance is running"},
	{ExitError, "the command failed (message on stderr); for `status`: an instance is `failed` or `exited`"},
	{ExitUsage, "bad flags or arguments, unknown command or subcommand, missing argument"},
	{ExitConfig, "the config file is invalid or unsafe (the message names file, line, key and the fix)"},
	{ExitNotRunning, "the supervisor is not running"},
	{ExitRefused, "upgrade refused (downgrade, unsupported source version, unknown target)"},
	{ExitMigration, "an upgrade step failed; data is untouched or resumable, re-run `openim-supervisor upgrade`"},
	{ExitLocked, "another upgrade holds the lock"},
	{ExitNotFound, "no such process or instance"},
	{ExitUnsupported, "not available on this OS"},
	{ExitNotUp, "`status`, `pid`: not every selected instance is up yet (pending, starting, backoff, stopping or stopped), none failed"},
	{ExitCheckFailed, "`doctor` or `service install`: a check failed (each failure names its cause and fix)"},
	{ExitConfigVersion, "`run`, `config check`: the OpenIM config dir is written for another OpenIM version (the message names `config upgrade` or `config import`)"},
}

// exitCodesHelp is the table as help text (root --help and the man page).
func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("Exit codes (every command):\n")
	for _, e := range exitCodeTable {
		fmt.Fprintf(&b, "  %2d  %s\n", e.Code, strings.ReplaceAll(e.Meaning, "`", ""))
	}
	return b.String()
}

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
