// Package upgrade takes an OpenIM installation's data from the version it is
// at to the version this binary ships: detect the data version, plan the
// pending steps of the migrations registry, lock (host file lock and, when a
// step uses MongoDB, a cluster lease in Mongo), back up, run each step,
// verify it, write OpenIM's markers and our own state record.
package upgrade

import (
	"errors"
	"fmt"
	"time"

	version "github.com/hashicorp/go-version"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// EnvMySQLDSN names the environment variable holding OpenIM 3.4's MySQL DSN.
const EnvMySQLDSN = "OPENIM_MYSQL_DSN"

// OldestSupported is the oldest data version we migrate from: OpenIM 3.4,
// the last release that kept users and groups in MySQL. Older data (2.x,
// 3.0-3.3) must first be brought to 3.4 with OpenIM's own tools.
const OldestSupported = "3.4.0"

// knownReleases are the OpenIM releases a target may name (plus the version
// this binary ships).
var knownReleases = []string{
	"3.4.0", "3.4.1", "3.4.2", "3.5.0", "3.5.1", "3.6.0", "3.6.1",
	"3.7.0", "3.7.1", "3.8.0", "3.8.1", "3.8.2", "3.8.3",
}

// RefusedError is an upgrade we will not do (downgrade, unsupported source,
// unknown target). Nothing was changed.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return "upgrade refused: " + e.Msg }

// StepError is a step that failed; the data is untouched or resumable.
type StepError struct {
	Step  string
	Err   error
	Log   string
	Rerun string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("step %s failed: %v; the data is untouched or resumable, details in %s; fix the cause and re-run: %s",
		e.Step, e.Err, e.Log, e.Rerun)
}
func (e *StepError) Unwrap() error { return e.Err }

// ErrPending is returned by Check when migrations must run first.
var ErrPending = errors.New("data migrations are pending")

// ErrNeedConfirm is returned when the plan has steps, --yes was not given
// and stdin is not a terminal.
var ErrNeedConfirm = errors.New("not confirmed: stdin is not a terminal, pass --yes to run the plan")

// Source says where the installed data version came from.
type Source string

const (
	SourceState   Source = "state record"
	SourceMarkers Source = "OpenIM markers in MongoDB"
	SourceFlag    Source = "--from"
	SourceFresh   Source = "empty databases (a fresh install)"
)

// Plan is what an upgrade would do.
type Plan struct {
	From       *version.Version
	FromSource Source
	To         *version.Version
	Steps      []migrations.Step
	Zone       *time.Location
	// Estimates holds, per step ID, the cheap estimate (or why there is none).
	Estimates map[string]string
	// Dirty is the step an earlier run started and did not finish (it
	// resumes), "" when none.
	Dirty string
}

// Needs is the union of the backends of the plan's steps.
func (p *Plan) Needs() migrations.Backend {
	var b migrations.Backend
	for _, s := range p.Steps {
		b |= s.Needs
	}
	return b
}

func mustVersion(s string) *version.Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// checkTarget refuses a target the binary cannot reach.
func checkTarget(to, binary *version.Version) error {
	if to.GreaterThan(binary) {
		return &RefusedError{Msg: fmt.Sprintf("target %s is newer than the OpenIM version this binary ships (%s); install the newer openim-supervisor package", to, binary)}
	}
	known := to.Equal(binary)
	for _, k := range knownReleases {
		if mustVersion(k).Equal(to) {
			known = true
		}
	}
	if !known {
		return &RefusedError{Msg: fmt.Sprintf("target %s is not an OpenIM release this binary knows (%v, %s)", to, knownReleases, binary)}
	}
	return nil
}

// checkSource refuses a source the binary cannot migrate from.
func checkSource(from, to, binary *version.Version, src Source) error {
	if from.GreaterThan(binary) {
		return &RefusedError{Msg: fmt.Sprintf("the data is at OpenIM %s (%s) but this binary ships %s: a downgrade; "+
			"install openim-supervisor for OpenIM %s or newer, or restore the backup taken before the upgrade", from, src, binary, from)}
	}
	if from.LessThan(mustVersion(OldestSupported)) {
		return &RefusedError{Msg: fmt.Sprintf("the data is at OpenIM %s (%s), older than the oldest supported source %s; "+
			"upgrade to OpenIM 3.4 with OpenIM's own tools first", from, src, OldestSupported)}
	}
	if from.GreaterThan(to) {
		return &RefusedError{Msg: fmt.Sprintf("the data is at OpenIM %s (%s), newer than the target %s: a downgrade", from, src, to)}
	}
	return nil
}
