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
	StatePending  State = "pending"  // not started yet (pre-start, or waiting for a barrier)
	StateStopped  State = "stopped"  // stopped by request; stays so until started
	StateStarting State = "starting" // running, not yet ready
	StateRunning  State = "running"  // running and ready
	StateBackoff  State = "backoff"  // exited, waiting for the restart delay
	StateStopping State = "stopping" // stop signal sent, waiting for exit
	StateExited   State = "exited"   // exited and the policy does not restart it
	StateFailed   State = "failed"   // maxFailures quick exits within the window; retried after the cool-down
)

// Exit describes how a run of an instance ended.
type Exit struct {
	Code   int       `json:"code"`             // exit code, or 128+signal when killed by a signal
	Signal string    `json:"signal,omitempty"` // e.g. "KILL" when killed by a signal
	Time   time.Time `json:"time,omitzero"`
	Err    string    `json:"error,omitempty"` // start error (e.g. binary missing)
}

// InstanceStatus is a snapshot of one instance, safe to copy and serialise.
type InstanceStatus struct {
	Name      string    `json:"name"`
	Index     int       `json:"index"`
	PID       int       `json:"pid,omitempty"`
	State     State     `json:"state"`
	Since     time.Time `json:"since,omitzero"`     // when State was entered
	StartedAt time.Time `json:"startedAt,omitzero"` // start of the current run
	Restarts  int       `json:"restarts"`           // restarts since the supervisor started
	LastExit  *Exit     `json:"lastExit,omitempty"` // kept across restarts: a crash loop shows its code
	NextStart time.Time `json:"nextStart,omitzero"` // when in backoff or failed
	// Failures is the number of quick exits in the current streak (within
	// the backoff window); at MaxFailures the instance is failed.
	Failures    int `json:"failures,omitempty"`
	MaxFailures int `json:"maxFailures,omitempty"`
	// LogDropped counts output lines dropped because the log sink made no
	// progress (see package logs); 0 while the disk keeps up.
	LogDropped uint64 `json:"logDropped,omitempty"`
}

// Phase is where the supervisor as a whole is.
type Phase string

const (
	PhaseIdle     Phase = "idle"      // Run not called yet
	PhasePreStart Phase = "pre-start" // running the pre-start tools
	PhaseStarting Phase = "starting"  // starting the instances
	PhaseRunning  Phase = "running"   // started (each instance is in its own state)
	PhaseStopping Phase = "stopping"
	PhaseStopped  Phase = "stopped"
	PhaseFailed   Phase = "failed" // a pre-start tool failed; nothing was started
)

// ToolState is the state of one pre-start tool.
type ToolState string

const (
	ToolPending ToolState = "pending"
	ToolRunning ToolState = "running"
	ToolDone    ToolState = "done"
	ToolFailed  ToolState = "failed"
)

// ToolStatus is a snapshot of one pre-start tool. Its output is under the
// log ID "NAME:0" (`logs NAME`).
type ToolStatus struct {
	Name      string    `json:"name"`
	State     ToolState `json:"state"`
	PID       int       `json:"pid,omitempty"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	Deadline  time.Time `json:"deadline,omitzero"` // when its timeout ends it
	// Attempt is the tool's own retry count when its output shows one
	// (check-component: "Kafka check failed" once a try); 0 otherwise.
	Attempt  int    `json:"attempt,omitempty"`
	LastLine string `json:"lastLine,omitempty"`
	Exit     *Exit  `json:"exit,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Snapshot is the whole supervisor's state: the document `status` shows.
type Snapshot struct {
	Phase Phase `json:"phase"`
	// Detail says what the phase waits for, e.g. "pre-start: check-component,
	// attempt 37" or "starting: 20/26 ready".
	Detail string `json:"detail,omitempty"`
	// AllReady: every instance is running (started and ready) right now.
	AllReady bool `json:"allReady"`
	// Deadline is when the current step must be done by the config's own
	// timeouts (a tool's timeout, the instances' ready timeout); zero when
	// nothing is pending. The systemd notifier extends the start timeout to it.
	Deadline  time.Time        `json:"deadline,omitzero"`
	Tools     []ToolStatus     `json:"tools,omitempty"`
	Instances []InstanceStatus `json:"instances"`
}

// Event is one step of an operation on one instance, for progress reports
// (rolling restarts and reloads).
type Event struct {
	Time     time.Time `json:"time"`
	Instance string    `json:"instance"` // name:index
	Step     Step      `json:"step"`
	Err      string    `json:"error,omitempty"`
}

// Step of an Event.
type Step string

const (
	StepStopping Step = "stopping"
	StepStopped  Step = "stopped"
	StepStarting Step = "starting"
	StepReady    Step = "ready"
	StepFailed   Step = "failed"
)

// Progress receives Events; it must not block (called on the operation's goroutine).
type Progress func(Event)

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
	// Rolling: the changed instances were restarted one at a time, each
	// ready before the next (false: all at once).
	Rolling bool `json:"rolling"`
}

// ReloadOptions change how Reload applies a config.
type ReloadOptions struct {
	// AllAtOnce restarts every changed instance at the same time instead of
	// one after another.
	AllAtOnce bool
	// Progress, when set, is told about each instance stopped and started.
	Progress Progress
}

// RestartOptions change how Restart works.
type RestartOptions struct {
	// Rolling: one instance at a time, each ready before the next.
	Rolling  bool
	Progress Progress
}

// ErrNoSuchTarget is returned (wrapped) when a Target matches no instance.
var ErrNoSuchTarget = fmt.Errorf("no such process or instance")
