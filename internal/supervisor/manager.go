package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
	"github.com/openim-supervisor/openim-supervisor/internal/process"
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
}

// ErrNotRunning is returned by the control methods when Run is not active.
var ErrNotRunning = errors.New("supervisor is not running")

// Manager runs the configured process set.
type Manager struct {
	log      *slog.Logger
	output   logs.Sink
	ring     *logs.Ring
	capture  *logs.Capture
	onChange func()
	baseEnv  []string
	reaper   *process.Reaper
	poller   *process.Poller // nil outside Linux

	opMu sync.Mutex // serialises the start phase, Start/Stop/Restart/Reload

	mu           sync.Mutex
	cfg          *config.Config
	insts        []*instance // config order
	byID         map[string]*instance
	running      bool
	loopCtx      context.Context
	loops        sync.WaitGroup
	pendingReady int
	ready        chan struct{}
	readyClosed  bool
	badTrans     int // transitions outside the table (tests)

	forks   chan forkReq   // to the forker goroutine
	changed chan struct{}  // cap 1: wake the OnChange notifier
	readers sync.WaitGroup // output readers of every child

	recMu       sync.Mutex
	records     map[string]process.Record
	recordsPath string
	recDirty    chan struct{} // cap 1: wake the records writer
}

// New prepares a Manager for cfg; nothing runs until Run.
func New(cfg *config.Config, opts Options) (*Manager, error) {
	if cfg == nil {
		return nil, errors.New("supervisor: nil config")
	}
	m := &Manager{
		log:      opts.Logger,
		output:   opts.Output,
		ring:     opts.Ring,
		onChange: opts.OnChange,
		baseEnv:  process.BaseEnv(),
		reaper:   process.NewReaper(),
		cfg:      cfg,
		byID:     map[string]*instance{},
		ready:    make(chan struct{}),
		changed:  make(chan struct{}, 1),
		forks:    make(chan forkReq),
		records:  map[string]process.Record{},
		recDirty: make(chan struct{}, 1),
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.ring == nil {
		m.ring = logs.NewRing(cfg.Log.Buffer)
	}
	m.capture = logs.NewCapture(logs.Multi(opts.Output, m.ring), 0)
	if cfg.Paths.StateDir != "" {
		m.recordsPath = filepath.Join(cfg.Paths.StateDir, process.RecordsFile)
	}
	seen := map[string]bool{}
	for _, ci := range cfg.Instances() {
		if seen[ci.ID()] {
			return nil, fmt.Errorf("supervisor: duplicate instance %s", ci.ID())
		}
		seen[ci.ID()] = true
		inst := m.newInstance(ci)
		m.insts = append(m.insts, inst)
		m.byID[ci.ID()] = inst
	}
	return m, nil
}

// Logs returns the ring of recent lines per instance.
func (m *Manager) Logs() *logs.Ring { return m.ring }

// Ready is closed once every instance was ready after the start.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

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

// Run kills leftovers of a previous run, runs the pre-start tools, starts
// every instance in order, supervises them until ctx ends, then stops all
// in reverse order. It returns when every child is gone.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.running || m.loopCtx != nil {
		m.mu.Unlock()
		return errors.New("supervisor: Run called twice")
	}
	loopCtx, cancelLoops := context.WithCancel(context.Background())
	m.loopCtx = loopCtx
	m.mu.Unlock()

	var bg sync.WaitGroup
	defer func() {
		cancelLoops()
		bg.Wait()
	}()

	m.memoryHint(len(m.insts))
	m.killLeftovers()
	poller, err := process.NewPoller()
	if err != nil {
		m.log.Warn("no poller; using goroutines per child", "err", err)
	}
	m.poller = poller
	defer func() {
		if poller != nil {
			poller.Close()
		}
	}()
	nf := forkers()
	bg.Add(3 + nf)
	for range nf {
		go func() { defer bg.Done(); m.forker(loopCtx) }()
	}
	go func() {
		defer bg.Done()
		if err := m.reaper.Run(loopCtx); err != nil {
			m.log.Warn("zombie reaper not available", "err", err)
		}
	}()
	go func() { defer bg.Done(); m.notifier(loopCtx) }()
	recCtx, stopRecords := context.WithCancel(context.Background())
	recDone := make(chan struct{})
	go func() { defer bg.Done(); defer close(recDone); m.recordsWriter(recCtx) }()
	// Every child is gone when Run returns: stop the writer, then remove
	// the file so that no stale record survives a clean stop.
	defer func() {
		stopRecords()
		<-recDone
		if m.recordsPath != "" {
			if err := os.Remove(m.recordsPath); err != nil && !errors.Is(err, os.ErrNotExist) {
				m.log.Warn("remove children records", "path", m.recordsPath, "err", err)
			}
		}
	}()

	m.opMu.Lock()
	if err := m.runTools(ctx); err != nil {
		m.opMu.Unlock()
		m.capture.Flush()
		return err
	}
	m.mu.Lock()
	m.running = true
	insts := append([]*instance(nil), m.insts...)
	m.pendingReady = len(insts)
	if m.pendingReady == 0 {
		m.closeReadyLocked()
	}
	for _, in := range insts {
		m.spawn(in)
	}
	m.mu.Unlock()

	start := time.Now()
	if err := m.startGroups(ctx, insts); err != nil && ctx.Err() == nil {
		m.log.Warn("start: not every instance became ready", "err", err)
	}
	m.log.Info("started", "instances", len(insts), "elapsed", time.Since(start).Round(time.Millisecond))
	m.opMu.Unlock()

	<-ctx.Done()
	m.log.Info("stopping")

	m.opMu.Lock()
	m.mu.Lock()
	m.running = false
	insts = append([]*instance(nil), m.insts...)
	m.mu.Unlock()
	stopErr := m.stopGroups(context.Background(), insts)
	for _, in := range insts {
		in.quit()
	}
	m.loops.Wait()
	m.opMu.Unlock()
	m.waitReaders(2 * time.Second)
	m.capture.Flush()
	m.log.Info("stopped")
	return stopErr
}

type forkReq struct {
	spec  process.Spec
	reply chan forkResult
}

type forkResult struct {
	p     *process.Process
	ticks uint64 // start time (Linux), 0 when unknown
	err   error
}

// forkers is how many forker goroutines start children. A fork blocks its
// OS thread until the child called exec (vfork), and its cost grows with
// the supervisor's open descriptors (the kernel copies the table, then the
// child closes every close-on-exec one): at 1000 children one fork takes
// about a millisecond. Go lets forks run concurrently (syscall.ForkLock is
// only held against descriptor creation between forks), so a few forkers
// use every CPU for a start-all of many instances.
func forkers() int {
	return min(max(runtime.GOMAXPROCS(0), 2), 4)
}

// forker starts instances' children (forkers of them share m.forks).
// Forking (exec.Cmd.Start) needs a deep stack; doing it here keeps the
// per-instance goroutines' stacks small (memory at 1000 instances). This
// goroutine never locks its OS thread, so the thread that forked a child
// (its Pdeathsig parent) never exits while the child runs.
func (m *Manager) forker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-m.forks:
			res := forkResult{}
			res.p, res.err = process.Start(ctx, r.spec)
			if res.err == nil {
				res.ticks, _ = process.StartTicks(res.p.PID())
			}
			r.reply <- res
		}
	}
}

// startProcess starts a child through the forker; it also returns the
// child's start time for children.json (0 when unknown).
func (m *Manager) startProcess(ctx context.Context, spec process.Spec) (*process.Process, uint64, error) {
	r := forkReq{spec: spec, reply: make(chan forkResult, 1)}
	select {
	case m.forks <- r:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	res := <-r.reply
	return res.p, res.ticks, res.err
}

// memoryHint sets a soft memory limit sized for n instances (runtime/debug
// SetMemoryLimit), unless the operator set GOGC or GOMEMLIMIT: the garbage
// of 1000 forks would otherwise let the heap grow to twice its live size.
// It is a hint, not a cap: the GC works harder above it, nothing fails.
func (m *Manager) memoryHint(n int) {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return
	}
	limit := int64(memBase + memPerInstance*n)
	if cur := debug.SetMemoryLimit(-1); cur < limit {
		return // someone set a lower limit already
	}
	debug.SetMemoryLimit(limit)
	m.log.Debug("soft memory limit", "bytes", limit)
}

// memBase and memPerInstance size the soft memory limit: the runtime and
// buffers, and roughly twice an instance's live heap and stack.
const (
	memBase        = 8 << 20
	memPerInstance = 12 << 10
)

// waitReaders waits (bounded: a grandchild that left the process group may
// hold a pipe open forever) for the children's last output lines.
func (m *Manager) waitReaders(limit time.Duration) {
	done := make(chan struct{})
	go func() { m.readers.Wait(); close(done) }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		m.log.Warn("output of some children still open after they exited")
	}
}

func (m *Manager) spawn(in *instance) {
	m.loops.Add(1)
	go func() {
		defer m.loops.Done()
		in.loop(m.loopCtx)
	}()
}

func (m *Manager) closeReadyLocked() {
	if !m.readyClosed {
		m.readyClosed = true
		close(m.ready)
	}
}

// instanceReady is called each time an instance becomes ready.
func (m *Manager) instanceReady(in *instance) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if in.everReady {
		return
	}
	in.everReady = true
	m.pendingReady--
	if m.pendingReady <= 0 {
		m.closeReadyLocked()
	}
}

func (m *Manager) notify() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

func (m *Manager) notifier(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.changed:
			if m.onChange != nil {
				m.onChange()
			}
		}
	}
}

// ---- children.json ----

func (m *Manager) killLeftovers() {
	if m.recordsPath == "" {
		return
	}
	recs, err := process.ReadRecords(m.recordsPath)
	if err != nil {
		m.log.Warn("read children records", "err", err)
		return
	}
	killed, err := process.KillLeftovers(recs)
	for _, r := range killed {
		m.log.Warn("killed leftover process group from a previous run", "id", r.ID, "pid", r.PID)
	}
	if err != nil {
		m.log.Warn("kill leftovers", "err", err)
	}
}

func (m *Manager) addRecord(r process.Record) {
	if m.recordsPath == "" {
		return
	}
	m.recMu.Lock()
	m.records[r.ID] = r
	m.recMu.Unlock()
	select {
	case m.recDirty <- struct{}{}:
	default:
	}
}

// dropRecord forgets a child that exited. The file is not rewritten for
// that alone: a stale record is harmless (its start time no longer matches).
func (m *Manager) dropRecord(id string, pid int) {
	if m.recordsPath == "" {
		return
	}
	m.recMu.Lock()
	if r, ok := m.records[id]; ok && r.PID == pid {
		delete(m.records, id)
	}
	m.recMu.Unlock()
}

func (m *Manager) recordsWriter(ctx context.Context) {
	if m.recordsPath == "" {
		<-ctx.Done()
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.recDirty:
			m.recMu.Lock()
			recs := make([]process.Record, 0, len(m.records))
			for _, r := range m.records {
				recs = append(recs, r)
			}
			m.recMu.Unlock()
			if err := process.WriteRecords(m.recordsPath, recs); err != nil {
				m.log.Warn("write children records", "err", err)
			}
			// At most one rewrite per interval: a burst of 1000 starts costs a
			// few writes, not 1000. (On Linux, Pdeathsig covers the gap.)
			t := time.NewTimer(recordsInterval)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// recordsInterval is the shortest time between two children.json rewrites.
const recordsInterval = 100 * time.Millisecond

// ---- pre-start tools ----

// toolLines is how many of a failing tool's last lines go into the error.
const toolLines = 20

func (m *Manager) runTools(ctx context.Context) error {
	for _, t := range m.cfg.Tools() {
		if err := m.runTool(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) runTool(ctx context.Context, t config.ToolSpec) error {
	m.log.Info("running pre-start tool", "tool", t.Name)
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	q := m.capture.Queue(t.Name, 0)
	id := t.Name + ":0"
	p, err := process.Start(ctx, process.Spec{
		Path: t.Path, Args: t.Args, Env: process.Environ(m.baseEnv, t.Env),
		StopTimeout: 5 * time.Second, Output: q, Reaper: m.reaper, Readers: &m.readers, Poller: m.poller,
	})
	if err != nil {
		return fmt.Errorf("pre-start tool %s: %w", t.Name, err)
	}
	if st, err := process.StartTicks(p.PID()); err == nil {
		m.addRecord(process.Record{ID: "tool:" + t.Name, PID: p.PID(), PGID: p.PID(), StartTime: st})
	}
	defer m.dropRecord("tool:"+t.Name, p.PID())
	var ex process.Exit
	select {
	case <-p.Done():
		ex = p.Exit()
	case <-ctx.Done():
		_ = p.Stop(context.Background())
		return fmt.Errorf("pre-start tool %s: %w", t.Name, ctx.Err())
	}
	select { // the group was killed with the leader, so EOF comes promptly
	case <-p.OutputDone():
	case <-time.After(2 * time.Second):
	}
	m.capture.Flush()
	if ex.Code != 0 {
		var last string
		for _, l := range m.ring.Tail(id, toolLines) {
			last += "\n  " + l.Text
		}
		if last == "" {
			last = "\n  (no output)"
		}
		return fmt.Errorf("pre-start tool %s failed (%s); its last output:%s", t.Name, ex, last)
	}
	m.log.Info("pre-start tool done", "tool", t.Name, "elapsed", ex.Ran.Round(time.Millisecond))
	return nil
}

// ---- targets and ordered operations ----

func (m *Manager) selectTargets(t Target) ([]*instance, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loopCtx == nil || !m.running {
		return nil, ErrNotRunning
	}
	var out []*instance
	for _, in := range m.insts {
		if t.All || (in.spec.Process == t.Name && (t.Index < 0 || in.spec.Index == t.Index)) {
			out = append(out, in)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", t, ErrNoSuchTarget)
	}
	return out, nil
}

// groups splits instances (config order) into consecutive runs of one process.
func groups(insts []*instance) [][]*instance {
	var out [][]*instance
	for i := 0; i < len(insts); {
		j := i + 1
		for j < len(insts) && insts[j].name == insts[i].name {
			j++
		}
		out = append(out, insts[i:j])
		i = j
	}
	return out
}

// startGroups starts process after process; a process's instances start
// together and the next process starts once they are ready (or failed).
func (m *Manager) startGroups(ctx context.Context, insts []*instance) error {
	var errs []error
	for _, g := range groups(insts) {
		if err := parallel(ctx, g, cmdStart); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

// stopGroups stops in reverse process order, each process's instances in parallel.
func (m *Manager) stopGroups(ctx context.Context, insts []*instance) error {
	gs := groups(insts)
	var errs []error
	for i := len(gs) - 1; i >= 0; i-- {
		if err := parallel(ctx, gs[i], cmdStop); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// parallel sends one command to every instance of g, then collects the
// replies: the instances work at the same time without a goroutine each.
func parallel(ctx context.Context, g []*instance, kind cmdKind) error {
	replies := make([]chan error, len(g))
	for i, in := range g {
		replies[i] = make(chan error, 1)
		if err := in.send(ctx, &command{kind: kind, reply: replies[i]}); err != nil {
			replies[i] <- err
		}
	}
	var errs []error
	for _, r := range replies {
		select {
		case err := <-r:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

// Start starts the target's instances (process order) and waits until they
// are ready. An explicit start clears the failed state and its counters.
func (m *Manager) Start(ctx context.Context, t Target) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	insts, err := m.selectTargets(t)
	if err != nil {
		return err
	}
	return m.startGroups(ctx, insts)
}

// Stop stops the target's instances (reverse process order, instances in
// parallel) and waits until they are gone. They stay stopped until started.
func (m *Manager) Stop(ctx context.Context, t Target) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	insts, err := m.selectTargets(t)
	if err != nil {
		return err
	}
	return m.stopGroups(ctx, insts)
}

// Restart stops then starts the target. With rolling, one instance at a
// time: each is stopped, started and ready before the next is touched.
func (m *Manager) Restart(ctx context.Context, t Target, rolling bool) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	insts, err := m.selectTargets(t)
	if err != nil {
		return err
	}
	if !rolling {
		if err := m.stopGroups(ctx, insts); err != nil {
			return err
		}
		return m.startGroups(ctx, insts)
	}
	for _, in := range insts {
		if err := in.do(ctx, command{kind: cmdStop}); err != nil {
			return err
		}
		if err := in.do(ctx, command{kind: cmdStart}); err != nil {
			return fmt.Errorf("rolling restart stopped at %s: %w", in.id, err)
		}
	}
	return nil
}

// Ping round-trips through every instance's supervision goroutine; it
// fails when one of them does not answer before ctx ends.
func (m *Manager) Ping(ctx context.Context) error {
	m.mu.Lock()
	if m.loopCtx == nil || !m.running {
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

// Reload applies a new (already loaded and validated) config: instances
// whose ID disappeared are stopped, new ones started, changed ones
// (config.Instance.Equal) restarted with the new settings; the others keep
// running untouched.
func (m *Manager) Reload(ctx context.Context, cfg *config.Config) (ReloadResult, error) {
	var res ReloadResult
	if cfg == nil {
		return res, errors.New("reload: nil config")
	}
	next := cfg.Instances()
	seen := map[string]bool{}
	for _, ci := range next {
		if seen[ci.ID()] {
			return res, fmt.Errorf("reload: duplicate instance %s", ci.ID())
		}
		seen[ci.ID()] = true
	}

	m.opMu.Lock()
	defer m.opMu.Unlock()
	m.mu.Lock()
	if m.loopCtx == nil || !m.running {
		m.mu.Unlock()
		return res, ErrNotRunning
	}
	old := append([]*instance(nil), m.insts...)
	m.mu.Unlock()

	var removed, changed []*instance
	for _, in := range old {
		if !seen[in.id] {
			removed = append(removed, in)
			res.Removed = append(res.Removed, in.id)
		}
	}
	oldByID := map[string]*instance{}
	for _, in := range old {
		oldByID[in.id] = in
	}
	var list, toStart []*instance
	var added []*instance
	for _, ci := range next {
		in := oldByID[ci.ID()]
		switch {
		case in == nil:
			in = m.newInstance(ci)
			added = append(added, in)
			toStart = append(toStart, in)
			res.Added = append(res.Added, ci.ID())
		case !in.spec.Equal(ci):
			changed = append(changed, in)
			toStart = append(toStart, in)
			res.Changed = append(res.Changed, ci.ID())
		default:
			res.Unchanged++
		}
		list = append(list, in)
	}

	var errs []error
	// Stop what goes away and what changes, newest-last order reversed.
	if err := m.stopGroups(ctx, append(append([]*instance(nil), removed...), changed...)); err != nil {
		errs = append(errs, err)
	}
	m.capture.Flush()
	for _, in := range removed {
		in.quit()
		m.ring.Forget(in.id)
		if c, ok := m.output.(interface{ CloseInstance(string, int) }); ok {
			c.CloseInstance(in.spec.Process, in.spec.Index) // e.g. the FileSink's open file
		}
	}
	newSpec := map[string]config.Instance{}
	for _, ci := range next {
		newSpec[ci.ID()] = ci
	}
	for _, in := range changed {
		if err := in.do(ctx, command{kind: cmdSetSpec, spec: newSpec[in.id]}); err != nil {
			errs = append(errs, err)
		}
	}

	m.mu.Lock()
	m.cfg = cfg
	m.insts = list
	m.byID = map[string]*instance{}
	for _, in := range list {
		m.byID[in.id] = in
	}
	for _, in := range removed {
		if !in.everReady {
			m.pendingReady--
		}
	}
	for _, in := range added {
		if !m.readyClosed {
			m.pendingReady++
		}
		m.spawn(in)
	}
	if !m.readyClosed && m.pendingReady <= 0 {
		m.closeReadyLocked()
	}
	m.mu.Unlock()
	m.notify()

	if err := m.startGroups(ctx, toStart); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}
