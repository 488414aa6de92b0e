package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/process"
)

// launcher starts children and keeps the record of what runs: it owns the
// forker goroutines, the epoll poller, the zombie reaper, children.json and
// the guardian. One per Run.
type launcher struct {
	log     *slog.Logger
	baseEnv []string
	reaper  *process.Reaper
	poller  *process.Poller // nil outside Linux
	readers sync.WaitGroup  // output readers of every child
	forks   chan forkReq
	threads *process.Forker // forker threads (Linux); nil: forker goroutines fork

	guardian *process.Guardian // nil when it could not start (or outside Linux)
	gone     sync.Once         // the guardian's end was logged

	mu      sync.Mutex
	records map[string]process.Record
	path    string        // children.json ("" without a state dir)
	dirty   chan struct{} // cap 1: wake the records writer
}

func newLauncher(log *slog.Logger, stateDir string) *launcher {
	l := &launcher{log: log, baseEnv: process.BaseEnv(), reaper: process.NewReaper(),
		forks: make(chan forkReq), records: map[string]process.Record{}, dirty: make(chan struct{}, 1)}
	if stateDir != "" {
		l.path = filepath.Join(stateDir, process.RecordsFile)
	}
	return l
}

// open kills the leftovers of a previous run, starts the guardian and the
// poller, and runs the forkers, the reaper and the records writer until
// ctx ends. close undoes it once every child is gone.
func (l *launcher) open(ctx context.Context, bg *sync.WaitGroup) {
	l.killLeftovers()
	g, err := process.StartGuardian()
	if err != nil {
		l.log.Warn("no guardian: grandchildren may outlive a supervisor that is killed", "err", err)
	}
	l.guardian = g
	// Before the poller: the forker threads' tables are copies made now.
	nf := forkers()
	threads, err := process.NewForker(nf)
	if err != nil {
		l.log.Warn("forking from the shared descriptor table (a start costs more as children add descriptors)", "err", err)
	}
	l.threads = threads
	p, err := process.NewPoller()
	if err != nil {
		l.log.Warn("no poller; using goroutines per child", "err", err)
	}
	l.poller = p
	if threads != nil {
		nf = 0
	}
	bg.Add(2 + nf)
	for range nf {
		go func() { defer bg.Done(); l.forker(ctx) }()
	}
	go func() {
		defer bg.Done()
		if err := l.reaper.Run(ctx); err != nil {
			l.log.Warn("zombie reaper not available", "err", err)
		}
	}()
	go func() { defer bg.Done(); l.recordsWriter(ctx) }()
}

// close runs after every child is gone: no record is left, so children.json
// goes and the guardian exits without killing anything.
func (l *launcher) close() {
	if l.poller != nil {
		l.poller.Close()
	}
	if l.threads != nil {
		l.threads.Close()
	}
	if l.path != "" {
		if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			l.log.Warn("remove children records", "path", l.path, "err", err)
		}
	}
	if l.guardian != nil {
		if err := l.guardian.Close(); err != nil {
			l.log.Warn("guardian", "err", err)
		}
	}
}

// waitReaders waits (bounded: a grandchild that left the process group may
// hold a pipe open forever) for the children's last output lines.
func (l *launcher) waitReaders(limit time.Duration) {
	done := make(chan struct{})
	go func() { l.readers.Wait(); close(done) }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		l.log.Warn("output of some children still open after they exited")
	}
}

type forkReq struct {
	id    string
	spec  process.Spec
	reply chan forkResult
}

type forkResult struct {
	p   *process.Process
	err error
}

// forkers is how many forker threads (or goroutines) start children. A fork blocks its
// OS thread until the child called exec (vfork), and its cost grows with
// the supervisor's open descriptors (the kernel copies the table, then the
// child closes every close-on-exec one): at 1000 children one fork takes
// about a millisecond. Go lets forks run concurrently (syscall.ForkLock is
// only held against descriptor creation between forks), so a few forkers
// use every CPU for a start-all of many instances.
func forkers() int {
	return min(max(runtime.GOMAXPROCS(0), 2), 4)
}

// forker starts children (forkers share l.forks) where there are no
// forker threads. Forking needs a deep stack; doing it here keeps the
// per-instance goroutines' stacks small (memory at 1000 instances). This
// goroutine never locks its OS thread, so the thread that forked a child
// (its Pdeathsig parent) never exits while the child runs.
func (l *launcher) forker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-l.forks:
			p, err := l.startRecorded(ctx, r.id, r.spec)
			r.reply <- forkResult{p, err}
		}
	}
}

// start starts a child through a forker and records it. The spec's
// Reaper, Poller and Readers are filled in here.
func (l *launcher) start(ctx context.Context, id string, spec process.Spec) (*process.Process, error) {
	spec.Reaper, spec.Poller, spec.Readers = l.reaper, l.poller, &l.readers
	if l.threads != nil {
		// The fork itself runs on a forker thread (and its deep stack).
		spec.Forker = l.threads
		return l.startRecorded(ctx, id, spec)
	}
	r := forkReq{id: id, spec: spec, reply: make(chan forkResult, 1)}
	select {
	case l.forks <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res := <-r.reply
	return res.p, res.err
}

// startRecorded starts the child and records it.
func (l *launcher) startRecorded(ctx context.Context, id string, spec process.Spec) (*process.Process, error) {
	p, err := process.Start(ctx, spec)
	if err == nil {
		l.record(id, p.PID())
	}
	return p, err
}

// record tells the guardian and children.json about a child that started.
func (l *launcher) record(id string, pid int) {
	rec, err := process.Identify(id, pid)
	if err != nil {
		return // outside Linux, or gone already
	}
	if l.guardian != nil {
		if err := l.guardian.Add(rec); err != nil {
			l.gone.Do(func() { l.log.Error("guardian", "err", err) })
		}
	}
	if l.path == "" {
		return
	}
	l.mu.Lock()
	l.records[id] = rec
	l.mu.Unlock()
	select {
	case l.dirty <- struct{}{}:
	default:
	}
}

// ended forgets a child that exited (its group was killed with it). The
// file is not rewritten for that alone: a stale record is harmless (its
// start time no longer matches).
func (l *launcher) ended(id string, pid int) {
	if g := l.guardian; g != nil {
		_ = g.Drop(id, pid)
	}
	l.mu.Lock()
	if r, ok := l.records[id]; ok && r.PID == pid {
		delete(l.records, id)
	}
	l.mu.Unlock()
}

func (l *launcher) killLeftovers() {
	if l.path == "" {
		return
	}
	recs, err := process.ReadRecords(l.path)
	if err != nil {
		l.log.Warn("read children records", "err", err)
		return
	}
	killed, err := process.KillLeftovers(recs)
	for _, k := range killed {
		l.log.Warn("killed a leftover process of a previous run", "id", k.Record.ID, "pid", k.PID, "leader", k.Leader)
	}
	if err != nil {
		l.log.Warn("kill leftovers", "err", err)
	}
}

func (l *launcher) recordsWriter(ctx context.Context) {
	if l.path == "" {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.dirty:
			l.mu.Lock()
			recs := make([]process.Record, 0, len(l.records))
			for _, r := range l.records {
				recs = append(recs, r)
			}
			l.mu.Unlock()
			if err := process.WriteRecords(l.path, recs); err != nil {
				l.log.Warn("write children records", "err", err)
			}
			// At most one rewrite per interval: a burst of 1000 starts costs a
			// few writes, not 1000. (The guardian knows at once.)
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
