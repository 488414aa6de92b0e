package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
	"github.com/openim-supervisor/openim-supervisor/internal/process"
	"github.com/openim-supervisor/openim-supervisor/internal/restart"
)

// deps is what an instance needs from the rest of the supervisor.
type deps struct {
	log      *slog.Logger
	launch   *launcher // set by Run before any loop starts
	gate     *readyGate
	changed  func()       // state changed (coalesced by the caller)
	badTrans atomic.Int64 // transitions outside the table (tests)
}

type cmdKind uint8

const (
	cmdStart   cmdKind = iota // start (if not running) and reply once ready
	cmdStop                   // stop (the stop ladder) and reply once gone
	cmdPing                   // reply at once
	cmdSetSpec                // replace the spec (while stopped)
	cmdQuit                   // stop if needed, reply, end the goroutine
	cmdSignal                 // send sig to the running child (signal.go)
)

type command struct {
	kind  cmdKind
	spec  config.Instance
	sig   string     // cmdSignal
	reply chan error // buffered 1
}

// instance is one supervised instance. Its goroutine (loop) owns the child
// and every timer; other goroutines talk to it through cmds and read its
// status under mu.
type instance struct {
	d     *deps
	id    string
	name  string
	cmds  chan *command
	queue *logs.Queue
	spec  config.Instance // read by ops only under Manager.opMu; written by loop under opMu (cmdSetSpec)

	quitDone chan struct{}

	mu sync.Mutex
	st InstanceStatus
}

func newInstance(d *deps, c *logs.Capture, ci config.Instance, openim bool) *instance {
	return &instance{
		d:        d,
		id:       ci.ID(),
		name:     ci.Process,
		cmds:     make(chan *command, 1),
		queue:    c.Queue(ci.Process, ci.Index, logs.QueueOptions{JoinSplitRecords: openim}),
		spec:     ci,
		quitDone: make(chan struct{}),
		st: InstanceStatus{Name: ci.Process, Index: ci.Index, State: StatePending, Since: time.Now(),
			MaxFailures: ci.Backoff.MaxFailures},
	}
}

func (in *instance) status() InstanceStatus {
	in.mu.Lock()
	st := in.st
	in.mu.Unlock()
	if st.LastExit != nil {
		e := *st.LastExit
		st.LastExit = &e
	}
	st.LogDropped = in.queue.Dropped()
	return st
}

// send hands a command (with a buffered reply channel) to the loop.
func (in *instance) send(ctx context.Context, c *command) error {
	select {
	case in.cmds <- c:
		return nil
	case <-in.quitDone:
		return fmt.Errorf("%s: %w", in.id, ErrNotRunning)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do sends a command and waits for its reply.
func (in *instance) do(ctx context.Context, c command) error {
	c.reply = make(chan error, 1)
	if err := in.send(ctx, &c); err != nil {
		return err
	}
	select {
	case err := <-c.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// quit ends the goroutine (stopping the child first) and waits for it.
func (in *instance) quit() {
	_ = in.do(context.Background(), command{kind: cmdQuit})
	<-in.quitDone
}

type timerKind uint8

const (
	timerNone      timerKind = iota
	timerRestart             // backoff or cool-down over: start again
	timerReadyWait           // Ready.After elapsed
)

type stopResult struct {
	p   *process.Process
	err error
}

// run is the per-loop state, owned by the instance goroutine.
type run struct {
	in      *instance
	ctx     context.Context
	tracker *restart.Tracker

	proc       *process.Process
	done       <-chan struct{}
	stopping   bool // a stop was requested for proc
	stopFailed bool // SIGKILL did not end proc (process.ErrStopTimeout)
	stopC      chan stopResult
	quitting   bool
	quitReply  chan error

	timer     *time.Timer
	timerC    <-chan time.Time
	timerKind timerKind

	probeC      chan error
	probeCancel context.CancelFunc

	startWaiters []chan error
	stopWaiters  []chan error
}

// loop is the instance goroutine. Its own frame is kept small (the state
// lives on the heap, the work in methods) so that an idle instance costs a
// minimal stack: 1000 of them are parked here.
func (in *instance) loop(ctx context.Context) {
	defer close(in.quitDone)
	r := newRun(in, ctx)
	for {
		select {
		case c := <-in.cmds:
			if r.command(c) {
				return
			}
		case <-r.done:
			if r.exited() {
				return
			}
		case s := <-r.stopC:
			if r.stopDone(s) {
				return
			}
		case <-r.timerC:
			r.fired()
		case err := <-r.probeC:
			r.probed(err)
		case <-ctx.Done():
			r.abort()
			return
		}
	}
}

//go:noinline
func newRun(in *instance, ctx context.Context) *run {
	return &run{in: in, ctx: ctx, tracker: restart.New(in.spec.Restart, in.spec.Backoff),
		stopC: make(chan stopResult, 1)}
}

// abort kills the child when the Manager goes away without a stop.
//
//go:noinline
func (r *run) abort() {
	if r.proc != nil {
		_ = r.proc.Kill()
		<-r.proc.Done()
		r.in.d.launch.ended(r.in.id, r.proc.PID())
	}
}

func (r *run) setTimer(k timerKind, d time.Duration) {
	r.clearTimer()
	r.timer = time.NewTimer(d)
	r.timerC = r.timer.C
	r.timerKind = k
}

func (r *run) clearTimer() {
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer, r.timerC, r.timerKind = nil, nil, timerNone
}

func (r *run) cancelProbe() {
	if r.probeCancel != nil {
		r.probeCancel()
	}
	r.probeC, r.probeCancel = nil, nil
}

func replyAll(ws *[]chan error, err error) {
	for _, w := range *ws {
		w <- err
	}
	*ws = nil
}

// set updates the status under the lock and tells the Manager.
func (r *run) set(f func(st *InstanceStatus)) {
	in := r.in
	in.mu.Lock()
	old := in.st.State
	f(&in.st)
	if in.st.State != old {
		in.st.Since = time.Now()
		if !validTransition(old, in.st.State) {
			in.d.badTrans.Add(1)
			in.d.log.Error("internal: unexpected state transition", "id", in.id, "from", old, "to", in.st.State)
		}
	}
	in.mu.Unlock()
	in.d.changed()
}

func (r *run) state() State {
	r.in.mu.Lock()
	defer r.in.mu.Unlock()
	return r.in.st.State
}

// command handles one command; true ends the loop.
func (r *run) command(c *command) bool {
	switch c.kind {
	case cmdPing:
		c.reply <- nil
	case cmdSignal:
		r.signal(c)
	case cmdSetSpec:
		r.in.spec = c.spec
		r.tracker = restart.New(c.spec.Restart, c.spec.Backoff)
		r.set(func(s *InstanceStatus) { s.MaxFailures = c.spec.Backoff.MaxFailures; s.Failures = 0 })
		c.reply <- nil
	case cmdStart:
		if r.proc != nil {
			switch {
			case r.stopping:
				c.reply <- fmt.Errorf("%s is stopping", r.in.id)
			case r.state() == StateRunning:
				c.reply <- nil
			default:
				r.startWaiters = append(r.startWaiters, c.reply)
			}
			return false
		}
		// An explicit start clears a backoff, a failed state and the counters.
		r.clearTimer()
		r.tracker.Reset()
		r.startWaiters = append(r.startWaiters, c.reply)
		r.start(false)
	case cmdStop, cmdQuit:
		if c.kind == cmdQuit {
			r.quitting = true
		}
		if r.proc == nil {
			r.clearTimer()
			if st := r.state(); st != StateStopped && st != StateExited {
				r.set(func(s *InstanceStatus) { s.State = StateStopped; s.NextStart = time.Time{} })
			}
			replyAll(&r.startWaiters, fmt.Errorf("%s: stopped before it started", r.in.id))
			c.reply <- nil
			return r.quitting
		}
		if r.stopFailed { // unkillable (e.g. stuck in the kernel): give up on it
			c.reply <- fmt.Errorf("%s (pid %d): %w", r.in.id, r.proc.PID(), process.ErrStopTimeout)
			return r.quitting
		}
		if c.kind == cmdQuit {
			r.quitReply = c.reply
		} else {
			r.stopWaiters = append(r.stopWaiters, c.reply)
		}
		replyAll(&r.startWaiters, fmt.Errorf("%s: stopped before it was ready", r.in.id))
		if !r.stopping {
			r.beginStop()
		}
	}
	return false
}

// start launches the child; isRestart says whether this is a policy restart.
func (r *run) start(isRestart bool) {
	in := r.in
	spec := in.spec
	p, err := in.d.launch.start(r.ctx, in.id, process.Spec{
		Path: spec.Path, Args: spec.Args, Env: process.Environ(in.d.launch.baseEnv, spec.Env), Dir: spec.Dir,
		StopSignal: string(spec.StopSignal), StopTimeout: spec.StopTimeout, Output: in.queue,
	})
	now := time.Now()
	if err != nil {
		in.d.log.Error("start failed", "id", in.id, "err", err)
		ex := &Exit{Code: -1, Time: now, Err: err.Error()}
		replyAll(&r.startWaiters, fmt.Errorf("%s: %w", in.id, err))
		r.set(func(s *InstanceStatus) {
			s.LastExit = ex
			s.PID = 0
			if isRestart {
				s.Restarts++
			}
		})
		r.decide(restart.Outcome{StartErr: err})
		return
	}
	r.proc, r.done = p, p.Done()
	r.stopping, r.stopFailed = false, false
	r.set(func(s *InstanceStatus) {
		s.State = StateStarting
		s.PID = p.PID()
		s.StartedAt = p.StartTime()
		s.NextStart = time.Time{}
		if isRestart {
			s.Restarts++
		}
	})
	if spec.Ready.After > 0 {
		r.setTimer(timerReadyWait, spec.Ready.After)
		return
	}
	r.afterWait()
}

// afterWait: the instance stayed up Ready.After; run the checks if any.
func (r *run) afterWait() {
	rd := r.in.spec.Ready
	if !rd.HasCheck() {
		r.ready()
		return
	}
	timeout := rd.Timeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	ch := make(chan error, 1)
	r.probeC, r.probeCancel = ch, cancel
	go func() { ch <- probe(ctx, rd) }()
}

// DefaultReadyTimeout applies when Ready.Timeout is 0.
const DefaultReadyTimeout = 60 * time.Second

func (r *run) ready() {
	var started time.Time
	r.set(func(s *InstanceStatus) { s.State = StateRunning; started = s.StartedAt })
	r.in.d.log.Debug("ready", "id", r.in.id, "after", time.Since(started).Round(time.Millisecond))
	r.in.d.gate.ready(r.in)
	replyAll(&r.startWaiters, nil)
}

func (r *run) probed(err error) {
	r.cancelProbe()
	if r.proc == nil || r.stopping {
		return
	}
	if err == nil {
		r.ready()
		return
	}
	// Not ready in time: a failed start. Kill it; the exit goes through the
	// restart policy like a crash.
	r.in.d.log.Warn("readiness check failed; killing the instance", "id", r.in.id, "err", err)
	replyAll(&r.startWaiters, fmt.Errorf("%s: not ready: %w", r.in.id, err))
	_ = r.proc.Kill()
}

// fired handles a timer.
func (r *run) fired() {
	k := r.timerKind
	r.timer, r.timerC, r.timerKind = nil, nil, timerNone
	switch k {
	case timerRestart:
		r.start(true)
	case timerReadyWait:
		if r.proc != nil && !r.stopping {
			r.afterWait()
		}
	}
}

// beginStop runs the stop ladder (process.Process.Stop: the stop signal,
// stopTimeout, SIGKILL to the group, a bounded wait) in a goroutine; the
// exit arrives on r.done as any other.
func (r *run) beginStop() {
	r.cancelProbe()
	r.clearTimer()
	r.stopping = true
	r.set(func(s *InstanceStatus) { s.State = StateStopping })
	p, ctx, c := r.proc, r.ctx, r.stopC
	go func() { c <- stopResult{p, p.Stop(ctx)} }()
}

// stopDone handles the end of a stop ladder; true ends the loop.
func (r *run) stopDone(s stopResult) bool {
	if s.p != r.proc || s.err == nil {
		return false // the exit (r.done) does the rest
	}
	err := fmt.Errorf("%s (pid %d): %w", r.in.id, s.p.PID(), s.err)
	r.in.d.log.Error("stop failed", "err", err)
	if errors.Is(s.err, process.ErrStopTimeout) {
		r.stopFailed = true
	}
	replyAll(&r.stopWaiters, err)
	if r.quitReply != nil {
		r.quitReply <- err
		return true
	}
	return false
}

// exited handles the end of the child; true ends the loop.
func (r *run) exited() bool {
	p := r.proc
	ex := p.Exit()
	r.proc, r.done = nil, nil
	r.cancelProbe()
	r.clearTimer()
	r.in.d.launch.ended(r.in.id, p.PID())
	last := &Exit{Code: ex.Code, Signal: ex.Signal, Time: ex.Time}
	if r.stopping {
		r.stopping, r.stopFailed = false, false
		if ex.Signal == "KILL" && r.in.spec.StopSignal != "KILL" {
			r.in.d.log.Warn("did not stop within stopTimeout; killed", "id", r.in.id, "pid", p.PID(),
				"stopTimeout", r.in.spec.StopTimeout)
		}
		r.set(func(s *InstanceStatus) { s.State = StateStopped; s.PID = 0; s.LastExit = last })
		replyAll(&r.stopWaiters, nil)
		if r.quitting {
			if r.quitReply != nil {
				r.quitReply <- nil
			}
			return true
		}
		return false
	}
	r.in.d.log.Warn("instance exited", "id", r.in.id, "pid", p.PID(), "exit", ex.String(), "ran", ex.Ran.Round(time.Millisecond))
	replyAll(&r.startWaiters, fmt.Errorf("%s exited before it was ready (%s)", r.in.id, ex))
	r.set(func(s *InstanceStatus) { s.PID = 0; s.LastExit = last })
	r.decide(restart.Outcome{Code: ex.Code, Signaled: ex.Signaled(), Ran: ex.Ran})
	return false
}

// decide applies the restart policy after an unrequested exit or a failed start.
func (r *run) decide(o restart.Outcome) {
	d := r.tracker.Exit(o)
	failures := r.tracker.Failures()
	switch {
	case !d.Restart:
		r.set(func(s *InstanceStatus) { s.State = StateExited; s.Failures = failures })
	case d.Delay <= 0:
		r.set(func(s *InstanceStatus) { s.Failures = failures })
		r.start(true) // immediate: no timer on the fast path
	default:
		next := time.Now().Add(d.Delay)
		state := StateBackoff
		if d.Failed {
			state = StateFailed
			failures = r.in.spec.Backoff.MaxFailures
			r.in.d.log.Error("instance failed: too many quick exits; retrying after the cool-down", "id", r.in.id,
				"failures", failures, "window", r.in.spec.Backoff.Window.D(), "cooldown", d.Delay)
		}
		r.set(func(s *InstanceStatus) { s.State = state; s.NextStart = next; s.Failures = failures })
		r.setTimer(timerRestart, d.Delay)
	}
}
