// Package supervisor runs the configured process set: start in order, restart
// per policy, stop in reverse, reload by diff, status snapshots.
package supervisor

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State of one instance.
type State string

const (
	StateStopped  State = "stopped"  // not running, not scheduled (stopped by request or policy never)
	StateStarting State = "starting" // running, not yet ready
	StateRunning  State = "running"  // running and ready
	StateBackoff  State = "backoff"  // exited, waiting for the restart delay
	StateStopping State = "stopping" // stop signal sent, waiting for exit
	StateExited   State = "exited"   // exited and the policy does not restart it
	StateFailed   State = "failed"   // too many failures in the window; retried after the cool-down
)

// Exit describes how a run of an instance ended.
type Exit struct {
	Code   int       `json:"code"`             // exit code, or 128+signal when killed by a signal
	Signal string    `json:"signal,omitempty"` // e.g. "KILL" when killed by a signal
	Time   time.Time `json:"time"`
	Err    string    `json:"error,omitempty"` // start error (e.g. binary missing)
}

// InstanceStatus is a snapshot of one instance, safe to copy and serialise.
type InstanceStatus struct {
	Name      string    `json:"name"`
	Index     int       `json:"index"`
	PID       int       `json:"pid,omitempty"`
	State     State     `json:"state"`
	Since     time.Time `json:"since"`               // when State was entered
	StartedAt time.Time `json:"startedAt,omitempty"` // start of the current run
	Restarts  int       `json:"restarts"`            // restarts since the supervisor started
	LastExit  *Exit     `json:"lastExit,omitempty"`
	NextStart time.Time `json:"nextStart,omitempty"` // when in backoff or failed
}

// ID is "name:index".
func (s InstanceStatus) ID() string { return s.Name + ":" + strconv.Itoa(s.Index) }

// Target selects instances for start/stop/restart: all, a process, or one instance.
type Target struct {
	All   bool
	Name  string
	Index int // -1: every instance of Name
}

// ParseTarget parses "all", "NAME" or "NAME:INDEX".
func ParseTarget(s string) (Target, error) {
	if s == "all" {
		return Target{All: true, Index: -1}, nil
	}
	name, idx, ok := strings.Cut(s, ":")
	if name == "" {
		return Target{}, fmt.Errorf("target %q: want all, NAME or NAME:INDEX", s)
	}
	if !ok {
		return Target{Name: name, Index: -1}, nil
	}
	n, err := strconv.Atoi(idx)
	if err != nil || n < 0 {
		return Target{}, fmt.Errorf("target %q: instance index must be a number >= 0", s)
	}
	return Target{Name: name, Index: n}, nil
}

func (t Target) String() string {
	switch {
	case t.All:
		return "all"
	case t.Index < 0:
		return t.Name
	default:
		return t.Name + ":" + strconv.Itoa(t.Index)
	}
}

// ReloadResult says what a reload changed, by instance ID.
type ReloadResult struct {
	Added     []string `json:"added"`
	Removed   []string `json:"removed"`
	Changed   []string `json:"changed"`
	Unchanged int      `json:"unchanged"`
}

// ErrNoSuchTarget is returned (wrapped) when a Target matches no instance.
var ErrNoSuchTarget = fmt.Errorf("no such process or instance")
