// Package control is the supervisor's local control channel: a server on a
// unix socket (a named pipe on Windows) that answers status, start, stop,
// restart, logs, reload and ping, the client the CLI uses, and the JSON wire
// types shared by both (also printed by `status --json`).
//
// Protocol: one JSON Request per connection, answered by one JSON Response
// line; `logs` answers with a stream of Response lines, each carrying one
// Line, ended by a Response with End set (or, with follow, by the client
// closing the connection).
package control

import (
	"errors"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// Operations.
const (
	OpPing    = "ping"
	OpStatus  = "status"
	OpStart   = "start"
	OpStop    = "stop"
	OpRestart = "restart"
	OpLogs    = "logs"
	OpReload  = "reload"
	OpSignal  = "signal"
)

// Error codes carried in Response.Code so the CLI can choose its exit code.
const (
	CodeBadRequest    = "bad_request"    // malformed request or target
	CodeNotFound      = "not_found"      // the target names no process or instance
	CodeInvalidConfig = "invalid_config" // reload: the new config was rejected
	CodeFailed        = "failed"         // the operation failed
	CodeUnsupported   = "unsupported"    // not available on the supervisor's OS
)

// Request is what the client sends, one per connection.
type Request struct {
	Op string `json:"op"`
	// Target is one target (all, NAME or NAME:INDEX), as older clients send it.
	Target string `json:"target,omitempty"`
	// Targets are all, NAME, NAME:INDEX or globs of names ('openim-rpc-*');
	// when set, Target is ignored. status with none shows every instance.
	Targets []string `json:"targets,omitempty"`
	Rolling bool     `json:"rolling,omitempty"` // restart one instance at a time
	Lines   int      `json:"lines,omitempty"`   // logs: recent lines to send first
	Follow  bool     `json:"follow,omitempty"`  // logs: keep streaming new lines
	Signal  string   `json:"signal,omitempty"`  // signal: the signal's name (HUP, USR1, ...)
	// AllAtOnce: reload restarts the changed instances together, not one
	// at a time (supervisor.ReloadOptions).
	AllAtOnce bool `json:"allAtOnce,omitempty"`
	// Progress asks start, stop, restart and signal to send a Progress line
	// before and after each step, ahead of the final answer.
	Progress bool `json:"progress,omitempty"`
}

// Progress is one step of start, stop, restart or signal: a process (or,
// rolling, one instance) that begins or ends its part of the operation.
type Progress struct {
	Op     string        `json:"op"`
	Target string        `json:"target"` // NAME or NAME:INDEX
	Step   int           `json:"step"`   // 1-based
	Total  int           `json:"total"`
	Done   bool          `json:"done,omitempty"` // false: begins; true: ended (see Error)
	Error  string        `json:"error,omitempty"`
	Took   time.Duration `json:"took,omitempty"` // when Done
}

// Response is one line of the server's answer.
type Response struct {
	Error    string                   `json:"error,omitempty"`
	Code     string                   `json:"code,omitempty"`
	Status   *StatusReply             `json:"status,omitempty"`
	Reload   *supervisor.ReloadResult `json:"reload,omitempty"`
	Line     *LogLine                 `json:"line,omitempty"`
	Progress *Progress                `json:"progress,omitempty"` // not the last line: more follow
	End      bool                     `json:"end,omitempty"`      // last line of a logs stream
}

// StatusReply is the answer to status and the document `status --json` prints.
type StatusReply struct {
	Supervisor SupervisorInfo              `json:"supervisor"`
	Instances  []supervisor.InstanceStatus `json:"instances"`
}

// SupervisorInfo describes the supervisor process itself.
type SupervisorInfo struct {
	PID       int       `json:"pid"`
	Version   string    `json:"version,omitempty"`
	Config    string    `json:"config,omitempty"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	Ready     bool      `json:"ready"` // every instance was ready after start
}

// LogLine is one captured output line of an instance.
type LogLine struct {
	Instance string    `json:"instance"` // name:index
	Time     time.Time `json:"time"`
	Stream   string    `json:"stream,omitempty"` // stdout or stderr
	Text     string    `json:"text"`
}

// ErrNotRunning is returned by the client when nothing answers on the socket.
var ErrNotRunning = errors.New("supervisor is not running")

// ErrPermission is returned by the client when the socket exists but may not be used.
var ErrPermission = errors.New("permission denied on the control socket")

// ErrAlreadyRunning is returned by Listen when a supervisor answers on the socket.
var ErrAlreadyRunning = errors.New("a supervisor is already running")

// RemoteError is an error reported by the server.
type RemoteError struct {
	Code string
	Msg  string
}

func (e *RemoteError) Error() string { return e.Msg }
