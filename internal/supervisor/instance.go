package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
	"github.com/openim-supervisor/openim-supervisor/internal/process"
	"github.com/openim-supervisor/openim-supervisor/internal/restart"
)

type cmdKind uint8

const (
	cmdStart   cmdKind = iota // start (if not running) and reply once ready
	cmdStop                   // stop (signal ladder) and reply once gone
	cmdPing                   // reply at once
	cmdSetSpec                // replace the spec (while stopped)
	cmdQuit                   // stop if needed, reply, end the goroutine
)

type command struct {
	kind  cmdKind
	spec  config.Instance
	reply chan error // buffered 1
}

// DefaultReadyTimeout applies when Ready.Timeout is 0.
const DefaultReadyTimeout = 60 * time.Second

// instance is one supervised instance. Its goroutine (loop) owns the child
// and every timer; other goroutines talk to it through cmds and read its
// status under mu.
type instance struct {
	m     *Manager
	id    string
	name  string
	cmds  chan *command
	queue *logs.Queue
	spec  config.Instance // read by Manager only under opMu; written by loop under opMu (cmdSetSpec)

	everReady bool // guarded by m.mu
	quitDone  chan struct{}

	mu sync.Mutex
	st InstanceStatus
}

func (m *Manager) newInstance(ci config.Instance) *instance {
	return &instance{
		m:        m,
		id:       ci.ID(),
		name:     ci.Process,
		cmds:     make(chan *command, 1),
		queue:    m.capture.Queue(ci.Process, ci.Index),
		spec:     ci,
		quitDone: make(chan struct{}),
		st:       InstanceStatus{Name: ci.Process, Index: ci.Index, State: StateStopped, Since: time.Now()},
	}
}

func (in *instance) status() InstanceStatus {
	in.mu.Lock()
	defer in.mu.Unlock()
	st := in.st
	if st.LastExit != nil {
		e := *st.LastExit
		st.LastExit = &e
	}
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
	timerKill                // stop timeout elapsed: SIGKILL
	timerFinal               // SIGKILL did not help
)

// run is the per-loop state, owned by the instance goroutine.
type run struct {
	in      *instance
	ctx     context.Context
	tracker *restart.Tracker

	proc          *process.Process
	done          <-chan struct{}
	stopRequested bool
	stopFailed    bool // SIGKILL did not end the child within FinalWait
	quitting      bool
	quitReply     chan error

	timer     *time.Timer
	timerC    <-chan time.Time
	timerKind timerKind

	probeC      chan error
	probeCancel context.CancelFunc

	startWaiters []chan error
	stopWaiters  []chan error
}

func newTracker(ci config.Instance) *restart.Tracker {
	return restart.New(ci.Restart, ci.Backoff)
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
		case <-r.timerC:
			if r.fired() {
				return
			}
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
	return &run{in: in, ctx: ctx, tracker: newTracker(in.spec)}
}

// abort kills the child when the Manager goes away without a stop.
//
//go:noinline
func (r *run) abort() {
	if r.proc != nil {
		_ = r.proc.Kill()
		<-r.proc.Done()
		r.in.m.dropRecord(r.in.id, r.proc.PID())
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
			in.m.mu.Lock()
			in.m.badTrans++
			in.m.mu.Unlock()
			in.m.log.Error("internal: unexpected state transition", "id", in.id, "from", old, "to", in.st.State)
		}
	}
	in.mu.Unlock()
	in.m.notify()
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
	case cmdSetSpec:
		r.in.spec = c.spec
		r.tracker = newTracker(c.spec)
		c.reply <- nil
	case cmdStart:
		if r.proc != nil {
			switch r.state() {
			case StateRunning:
				c.reply <- nil
			case StateStarting:
				r.startWaiters = append(r.startWaiters, c.reply)
			default:
				c.reply <- fmt.Errorf("%s is stopping", r.in.id)
			}
			return false
		}
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
			c.reply <- nil
			return r.quitting
		}
		if c.kind == cmdQuit {
			if r.stopFailed { // unkillable (e.g. stuck in the kernel): give up on it
				c.reply <- fmt.Errorf("%s (pid %d): %w", r.in.id, r.proc.PID(), process.ErrStopTimeout)
				return true
			}
			r.quitReply = c.reply
		} else {
			r.stopWaiters = append(r.stopWaiters, c.reply)
		}
		replyAll(&r.startWaiters, fmt.Errorf("%s: stopped before it was ready", r.in.id))
		if !r.stopRequested {
			r.stopRequested = true
			r.beginStop()
		}
	}
	return false
}

// start launches the child; restart says whether this is a policy restart.
func (r *run) start(isRestart bool) {
	in := r.in
	spec := in.spec
	p, ticks, err := in.m.startProcess(r.ctx, process.Spec{
		Path: spec.Path, Args: spec.Args, Env: process.Environ(in.m.baseEnv, spec.Env), Dir: spec.Dir,
		StopSignal: string(spec.StopSignal), StopTimeout: spec.StopTimeout,
		Output: in.queue, Reaper: in.m.reaper, Readers: &in.m.readers, Poller: in.m.poller,
	})
	now := time.Now()
	if err != nil {
		in.m.log.Error("start failed", "id", in.id, "err", err)
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
	if ticks != 0 {
		in.m.addRecord(process.Record{ID: in.id, PID: p.PID(), PGID: p.PID(), StartTime: ticks})
	}
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

// afterWait: the instance stayed up Ready.After; run the check if any.
func (r *run) afterWait() {
	rd := r.in.spec.Ready
	if rd.TCP == "" && rd.HTTP == "" {
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

func (r *run) ready() {
	r.set(func(s *InstanceStatus) { s.State = StateRunning })
	r.in.m.instanceReady(r.in)
	replyAll(&r.startWaiters, nil)
}

func (r *run) probed(err error) {
	r.cancelProbe()
	if r.proc == nil || r.stopRequested {
		return
	}
	if err == nil {
		r.ready()
		return
	}
	// Not ready in time: a failed start. Kill it; the exit goes through the
	// restart policy like a crash.
	r.in.m.log.Warn("readiness check failed; killing the instance", "id", r.in.id, "err", err)
	replyAll(&r.startWaiters, fmt.Errorf("%s: not ready: %w", r.in.id, err))
	_ = r.proc.Kill()
}

// fired handles a timer; true ends the loop.
func (r *run) fired() bool {
	k := r.timerKind
	r.timer, r.timerC, r.timerKind = nil, nil, timerNone
	switch k {
	case timerRestart:
		r.start(true)
	case timerReadyWait:
		if r.proc != nil && !r.stopRequested {
			r.afterWait()
		}
	case timerKill:
		if r.proc != nil {
			r.in.m.log.Warn("stop timeout; sending SIGKILL to the process group", "id", r.in.id, "pid", r.proc.PID())
			_ = r.proc.Kill()
			r.setTimer(timerFinal, process.FinalWait)
		}
	case timerFinal:
		if r.proc != nil {
			err := fmt.Errorf("%s (pid %d): %w", r.in.id, r.proc.PID(), process.ErrStopTimeout)
			r.in.m.log.Error("stop failed", "err", err)
			r.stopFailed = true
			replyAll(&r.stopWaiters, err)
			if r.quitReply != nil {
				r.quitReply <- err
				return true
			}
		}
	}
	return false
}

func (r *run) beginStop() {
	r.cancelProbe()
	r.clearTimer()
	r.set(func(s *InstanceStatus) { s.State = StateStopping })
	spec := r.in.spec
	if spec.StopSignal == "KILL" || spec.StopTimeout <= 0 {
		_ = r.proc.Kill()
		r.setTimer(timerFinal, process.FinalWait)
		return
	}
	if err := r.proc.Signal(string(spec.StopSignal)); err != nil {
		r.in.m.log.Warn("stop signal failed; killing", "id", r.in.id, "err", err)
		_ = r.proc.Kill()
		r.setTimer(timerFinal, process.FinalWait)
		return
	}
	r.setTimer(timerKill, spec.StopTimeout)
}

// exited handles the end of the child; true ends the loop.
func (r *run) exited() bool {
	p := r.proc
	ex := p.Exit()
	r.proc, r.done = nil, nil
	r.stopFailed = false
	r.cancelProbe()
	r.clearTimer()
	r.in.m.dropRecord(r.in.id, p.PID())
	last := &Exit{Code: ex.Code, Signal: ex.Signal, Time: ex.Time}
	if r.stopRequested {
		r.stopRequested = false
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
	r.in.m.log.Warn("instance exited", "id", r.in.id, "pid", p.PID(), "exit", ex.String(), "ran", ex.Ran.Round(time.Millisecond))
	replyAll(&r.startWaiters, fmt.Errorf("%s exited before it was ready (%s)", r.in.id, ex))
	r.set(func(s *InstanceStatus) { s.PID = 0; s.LastExit = last })
	r.decide(restart.Outcome{Code: ex.Code, Signaled: ex.Signaled(), Ran: ex.Ran})
	return false
}

// decide applies the restart policy after an unrequested exit or a failed start.
func (r *run) decide(o restart.Outcome) {
	d := r.tracker.Exit(o)
	if d.Restart && d.Delay <= 0 && o.StartErr != nil {
		d.Delay = time.Second // never spin on a binary that cannot start
	}
	switch {
	case !d.Restart:
		r.set(func(s *InstanceStatus) { s.State = StateExited })
	case d.Delay <= 0:
		r.start(true) // immediate: no timer on the fast path
	default:
		next := time.Now().Add(d.Delay)
		state := StateBackoff
		if d.Failed {
			state = StateFailed
			r.in.m.log.Error("instance failed: too many failures; retrying after the cool-down", "id", r.in.id, "cooldown", d.Delay)
		}
		r.set(func(s *InstanceStatus) { s.State = state; s.NextStart = next })
		r.setTimer(timerRestart, d.Delay)
	}
}

// probe retries the TCP or HTTP check with a short growing pause until it
// answers or ctx ends.
func probe(ctx context.Context, rd config.ResolvedReady) error {
	pause := 20 * time.Millisecond
	var last error
	for {
		try, cancel := context.WithTimeout(ctx, time.Second)
		last = check(try, rd)
		cancel()
		if last == nil {
			return nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-t.C:
		}
		if pause < 500*time.Millisecond {
			pause *= 2
		}
	}
}

func check(ctx context.Context, rd config.ResolvedReady) error {
	if rd.TCP != "" {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", rd.TCP)
		if err != nil {
			return err
		}
		c.Close()
	}
	if rd.HTTP != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rd.HTTP, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return errors.New("HTTP " + resp.Status)
		}
	}
	return nil
}
