package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// Options configure a Manager.
type Options struct {
	// Logger is the supervisor's own log (nil: discarded).
	Logger *slog.Logger
	// Output receives every child line (file or journal sink); nil: only the ring.
	Output logs.Sink
	// Ring keeps recent lines per instance for `logs`; nil: one is created
	// with cfg.Log.Buffer lines per instance. Logs() returns it.
	Ring *logs.Ring
	// OnChange is called after state changes, from a separate goroutine
	// (calls are coalesced; it never blocks supervision).
	OnChange func()
	// Components are the servers OpenIM needs (from its config dir);
	// while the pre-start tool check-component waits for them, the
	// supervisor tries them too and starts the tool again as soon as they
	// are up (see componentTool).
	Components []Component
	// BeforeStart, when set, runs once after the pre-start tools passed and
	// before the first instance starts (Run). It cannot stop the start: it
	// logs what went wrong itself.
	BeforeStart func(ctx context.Context)
}

// ErrNotRunning is returned by the control methods when Run is not active.
var ErrNotRunning = errors.New("supervisor is not running")

// Manager runs the configured process set. It holds the instances and the
// phase; the work is done by its collaborators (see the package comment).
type Manager struct {
	log      *slog.Logger
	output   logs.Sink
	ring     *logs.Ring
	capture  *logs.Capture
	onChange func()
	changes  chan struct{} // cap 1: wake the OnChange caller
	d        *deps
	gate     *readyGate
	pre      *preStart
	before   func(ctx context.Context) // Options.BeforeStart

	opMu sync.Mutex // serialises the start phase, Start/Stop/Restart/Reload

	mu       sync.Mutex // guards what follows (held only to copy)
	cfg      *config.Config
	insts    []*instance // config order
	phase    Phase
	deadline time.Time
	loopCtx  context.Context
	loops    sync.WaitGroup
}

// New prepares a Manager for cfg (defaults applied: config.Load, or
// ApplyDefaults for a config built in code); nothing runs until Run.
func New(cfg *config.Config, opts Options) (*Manager, error) {
	if cfg == nil {
		return nil, errors.New("supervisor: nil config")
	}
	m := &Manager{
		log:      opts.Logger,
		output:   opts.Output,
		ring:     opts.Ring,
		onChange: opts.OnChange,
		before:   opts.BeforeStart,
		changes:  make(chan struct{}, 1),
		gate:     newReadyGate(),
		cfg:      cfg,
		phase:    PhaseIdle,
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.ring == nil {
		m.ring = logs.NewRing(cfg.Log.Buffer)
	}
	m.capture = logs.NewCapture(logs.Multi(opts.Output, m.ring), logs.Options{})
	m.d = &deps{log: m.log, gate: m.gate, changed: m.notify}
	m.pre = newPreStart(m.log, m.capture, m.ring, m.notify, cfg.Tools(), opts.Components)
	seen := map[string]bool{}
	for _, ci := range cfg.Instances() {
		if seen[ci.ID()] {
			return nil, fmt.Errorf("supervisor: duplicate instance %s", ci.ID())
		}
		seen[ci.ID()] = true
		in := m.newInstance(cfg, ci)
		m.insts = append(m.insts, in)
		m.gate.wait(in)
	}
	return m, nil
}

// newInstance makes an instance of cfg; a process without a command is an
// OpenIM service, whose split log records are mended (logs.QueueOptions).
func (m *Manager) newInstance(cfg *config.Config, ci config.Instance) *instance {
	openim := false
	for _, p := range cfg.Processes {
		if p.Name == ci.Process {
			openim = p.Command == ""
		}
	}
	return newInstance(m.d, m.capture, ci, openim)
}

// Logs returns the ring of recent lines per instance (and per pre-start
// tool, as "NAME:0").
func (m *Manager) Logs() *logs.Ring { return m.ring }

// Ready is closed once every instance was ready after the start.
func (m *Manager) Ready() <-chan struct{} { return m.gate.done() }

// Status returns a snapshot of every instance in config order.
func (m *Manager) Status() []InstanceStatus {
	m.mu.Lock()
	insts := append([]*instance(nil), m.insts...)
	m.mu.Unlock()
	out := make([]InstanceStatus, 0, len(insts))
	for _, in := range insts {
		out = append(out, in.status())
	}
	return out
}

// Snapshot returns the whole state: phase, pre-start tools, instances.
func (m *Manager) Snapshot() Snapshot {
	m.mu.Lock()
	phase, deadline := m.phase, m.deadline
	m.mu.Unlock()
	s := Snapshot{Phase: phase, Tools: m.pre.status(), Instances: m.Status()}
	ready := 0
	for _, in := range s.Instances {
		if in.State == StateRunning {
			ready++
		}
	}
	s.AllReady = ready == len(s.Instances) && (phase == PhaseStarting || phase == PhaseRunning)
	switch phase {
	case PhasePreStart:
		if t, ok := m.pre.current(); ok {
			s.Detail = "pre-start: " + t.Name
			if t.Attempt > 0 {
				s.Detail += fmt.Sprintf(", attempt %d", t.Attempt)
			} else {
				s.Detail += ", running " + time.Since(t.StartedAt).Round(time.Second).String()
			}
			s.Deadline = t.Deadline
		}
	case PhaseStarting, PhaseRunning:
		if !s.AllReady {
			s.Detail = fmt.Sprintf("%s: %d/%d ready", phase, ready, len(s.Instances))
		}
		if phase == PhaseStarting {
			s.Deadline = deadline
		}
	case PhaseFailed:
		for _, t := range s.Tools {
			if t.State == ToolFailed {
				s.Detail = t.Error
			}
		}
	}
	return s
}

func (m *Manager) setPhase(p Phase) {
	m.mu.Lock()
	m.phase = p
	m.deadline = time.Time{}
	m.mu.Unlock()
	m.notify()
}

func (m *Manager) setDeadline(t time.Time) {
	m.mu.Lock()
	m.deadline = t
	m.mu.Unlock()
	m.notify()
}

// Run kills leftovers of a previous run, runs the pre-start tools, starts
// every instance (segment by segment), supervises them until ctx ends, then
// stops all in reverse. It returns when every child is gone.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.loopCtx != nil {
		m.mu.Unlock()
		return errors.New("supervisor: Run called twice")
	}
	loopCtx, cancelLoops := context.WithCancel(context.Background())
	m.loopCtx = loopCtx
	m.mu.Unlock()

	var bg sync.WaitGroup
	l := newLauncher(m.log, m.cfg.Paths.StateDir)
	m.d.launch = l
	l.open(loopCtx, &bg)
	bg.Add(1)
	go func() { defer bg.Done(); m.notifier(loopCtx) }()
	defer func() {
		cancelLoops()
		bg.Wait()
		l.close()
	}()

	m.opMu.Lock()
	m.mu.Lock()
	insts := append([]*instance(nil), m.insts...)
	for _, in := range insts {
		m.spawn(in)
	}
	m.mu.Unlock()
	m.setPhase(PhasePreStart)
	if err := m.pre.run(ctx, l, m.cfg.Tools()); err != nil {
		m.setPhase(PhaseFailed)
		m.quitAll()
		m.opMu.Unlock()
		m.capture.Flush()
		if ctx.Err() != nil {
			return ctx.Err() // a stop during pre-start
		}
		return err
	}
	if m.before != nil {
		m.before(ctx)
	}
	m.setPhase(PhaseStarting)
	m.gate.arm()
	start := time.Now()
	if err := startSegments(ctx, insts, nil, m.setDeadline); err != nil && ctx.Err() == nil {
		m.log.Warn("start: not every instance became ready", "err", err)
	}
	m.log.Info("started", "instances", len(insts), "elapsed", time.Since(start).Round(time.Millisecond))
	m.setPhase(PhaseRunning)
	m.opMu.Unlock()
	// Starting many children leaves garbage (fork and exec buffers, one
	// per start) that a heap sized by GOGC would keep mapped: return it to
	// the OS once, now, instead of capping the heap with a memory limit
	// (which made the GC run thousands of times under a log flood).
	debug.FreeOSMemory()

	<-ctx.Done()
	m.log.Info("stopping")
	m.setPhase(PhaseStopping)
	m.opMu.Lock()
	m.mu.Lock()
	insts = append([]*instance(nil), m.insts...)
	m.mu.Unlock()
	stopErr := stopSegments(context.Background(), insts, nil)
	m.quitAll()
	m.opMu.Unlock()
	l.waitReaders(2 * time.Second)
	m.capture.Flush()
	m.setPhase(PhaseStopped)
	m.log.Info("stopped")
	return stopErr
}

// quitAll ends every instance goroutine (stopping what still runs).
func (m *Manager) quitAll() {
	m.mu.Lock()
	insts := append([]*instance(nil), m.insts...)
	m.mu.Unlock()
	for _, in := range insts {
		in.quit()
	}
	m.loops.Wait()
}

func (m *Manager) spawn(in *instance) {
	m.loops.Add(1)
	go func() {
		defer m.loops.Done()
		in.loop(m.loopCtx)
	}()
}

func (m *Manager) notify() {
	select {
	case m.changes <- struct{}{}:
	default:
	}
}

func (m *Manager) notifier(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.changes:
			if m.onChange != nil {
				m.onChange()
			}
		}
	}
}

// runningInstances returns the instances when operations are allowed (Run
// has started them); opMu held.
func (m *Manager) runningInstances() ([]*instance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.phase != PhaseRunning {
		return nil, ErrNotRunning
	}
	return append([]*instance(nil), m.insts...), nil
}

func (m *Manager) selectTargets(t Target) ([]*instance, error) {
	all, err := m.runningInstances()
	if err != nil {
		return nil, err
	}
	var out []*instance
	for _, in := range all {
		if t.All || (in.spec.Process == t.Name && (t.Index < 0 || in.spec.Index == t.Index)) {
			out = append(out, in)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", t, ErrNoSuchTarget)
	}
	return out, nil
}

// Start starts the target's instances (segment by segment) and waits until
// they are ready. An explicit start clears the failed state and its counters.
func (m *Manager) Start(ctx context.Context, t Target) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	insts, err := m.selectTargets(t)
	if err != nil {
		return err
	}
	return startSegments(ctx, insts, nil, nil)
}

// Stop stops the target's instances (in reverse, a segment's at once) and
// waits until they are gone. They stay stopped until started.
func (m *Manager) Stop(ctx context.Context, t Target) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	insts, err := m.selectTargets(t)
	if err != nil {
		return err
	}
	return stopSegments(ctx, insts, nil)
}

// Restart is RestartWith without progress reports.
func (m *Manager) Restart(ctx context.Context, t Target, rolling bool) error {
	return m.RestartWith(ctx, t, RestartOptions{Rolling: rolling})
}

// RestartWith stops then starts the target. With o.Rolling, one instance at
// a time: each is stopped, started and ready before the next is touched.
func (m *Manager) RestartWith(ctx context.Context, t Target, o RestartOptions) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	insts, err := m.selectTargets(t)
	if err != nil {
		return err
	}
	if o.Rolling {
		return rolling(ctx, insts, o.Progress, nil)
	}
	if err := stopSegments(ctx, insts, o.Progress); err != nil {
		return err
	}
	return startSegments(ctx, insts, o.Progress, nil)
}

// Ping round-trips through every instance's supervision goroutine (also
// during the pre-start tools); it fails when one of them does not answer
// before ctx ends.
func (m *Manager) Ping(ctx context.Context) error {
	m.mu.Lock()
	switch m.phase {
	case PhaseIdle, PhaseStopped, PhaseFailed:
		m.mu.Unlock()
		return ErrNotRunning
	}
	insts := append([]*instance(nil), m.insts...)
	m.mu.Unlock()
	for _, in := range insts {
		if err := in.do(ctx, command{kind: cmdPing}); err != nil {
			return fmt.Errorf("ping %s: %w", in.id, err)
		}
	}
	return nil
}
