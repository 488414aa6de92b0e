package supervisor

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/process"
)

// launcher starts children: it owns the forker threads (or goroutines),
// the epoll poller, the zombie reaper and the output readers, and tells
// its records (children.json, the guardian) about every child. One per Run.
type launcher struct {
	log     *slog.Logger
	baseEnv []string
	reaper  *process.Reaper
	poller  *process.Poller // nil outside Linux
	readers sync.WaitGroup  // output readers of every child
	forks   chan forkReq
	threads *process.Forker // forker threads (Linux); nil: forker goroutines fork
	records *childRecords
}

func newLauncher(log *slog.Logger, stateDir string) *launcher {
	return &launcher{log: log, baseEnv: process.BaseEnv(), reaper: process.NewReaper(),
		forks: make(chan forkReq), records: newChildRecords(log, stateDir)}
}

// open kills the leftovers of a previous run, starts the guardian and the
// poller, and runs the forkers, the reaper and the records writer until
// ctx ends. close undoes it once every child is gone.
func (l *launcher) open(ctx context.Context, bg *sync.WaitGroup) {
	l.records.open(ctx, bg)
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
	go func() { defer bg.Done(); l.records.writer(ctx) }()
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
	l.records.close()
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
		l.records.add(id, p.PID())
	}
	return p, err
}

// ended forgets a child that exited (see childRecords.drop).
func (l *launcher) ended(id string, pid int) { l.records.drop(id, pid) }
