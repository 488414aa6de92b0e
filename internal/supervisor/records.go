package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/process"
)

// childRecords knows what runs, for whoever must clean up after a
// supervisor that died: the guardian (it kills every recorded child when
// the supervisor is gone) at once, and children.json (the next start ends
// the leftovers it names) at most every recordsInterval.
type childRecords struct {
	log      *slog.Logger
	guardian *process.Guardian // nil when it could not start (or outside Linux)
	gone     sync.Once         // the guardian's end was logged

	mu    sync.Mutex
	byID  map[string]process.Record
	path  string        // children.json ("" without a state dir)
	dirty chan struct{} // cap 1: wake the writer
}

func newChildRecords(log *slog.Logger, stateDir string) *childRecords {
	r := &childRecords{log: log, byID: map[string]process.Record{}, dirty: make(chan struct{}, 1)}
	if stateDir != "" {
		r.path = filepath.Join(stateDir, process.RecordsFile)
	}
	return r
}

// open ends the leftovers of a previous run, then starts the guardian. It
// does not wait for the guardian to listen (children may start meanwhile:
// it reads what it was told when it gets there); a guardian that does not
// come up is logged from bg.
func (r *childRecords) open(ctx context.Context, bg *sync.WaitGroup) {
	r.killLeftovers()
	g, err := process.StartGuardian()
	if err != nil {
		r.log.Warn(noGuardian, "err", err)
	}
	r.guardian = g
	if g == nil {
		return
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		if err := g.Started(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn(noGuardian, "err", err)
		}
	}()
}

const noGuardian = "no guardian: grandchildren may outlive a supervisor that is killed"

// close runs after every child is gone: no record is left, so children.json
// goes and the guardian exits without killing anything.
func (r *childRecords) close() {
	if r.path != "" {
		if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("remove children records", "path", r.path, "err", err)
		}
	}
	if r.guardian != nil {
		if err := r.guardian.Close(); err != nil {
			r.log.Warn("guardian", "err", err)
		}
	}
}

// add records a child that started.
func (r *childRecords) add(id string, pid int) {
	rec, err := process.Identify(id, pid)
	if err != nil {
		return // outside Linux, or gone already
	}
	if r.guardian != nil {
		if err := r.guardian.Add(rec); err != nil {
			r.gone.Do(func() { r.log.Error("guardian", "err", err) })
		}
	}
	if r.path == "" {
		return
	}
	r.mu.Lock()
	r.byID[id] = rec
	r.mu.Unlock()
	select {
	case r.dirty <- struct{}{}:
	default:
	}
}

// drop forgets a child that exited (its group was killed with it). The
// file is not rewritten for that alone: a stale record is harmless (its
// start time no longer matches).
func (r *childRecords) drop(id string, pid int) {
	if g := r.guardian; g != nil {
		_ = g.Drop(id, pid)
	}
	r.mu.Lock()
	if rec, ok := r.byID[id]; ok && rec.PID == pid {
		delete(r.byID, id)
	}
	r.mu.Unlock()
}

func (r *childRecords) killLeftovers() {
	if r.path == "" {
		return
	}
	recs, err := process.ReadRecords(r.path)
	if err != nil {
		r.log.Warn("read children records", "err", err)
		return
	}
	killed, err := process.KillLeftovers(recs)
	for _, k := range killed {
		r.log.Warn("killed a leftover process of a previous run", "id", k.Record.ID, "pid", k.PID, "leader", k.Leader)
	}
	if err != nil {
		r.log.Warn("kill leftovers", "err", err)
	}
}

// writer rewrites children.json when a child was added, until ctx ends.
func (r *childRecords) writer(ctx context.Context) {
	if r.path == "" {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.dirty:
			r.mu.Lock()
			recs := make([]process.Record, 0, len(r.byID))
			for _, rec := range r.byID {
				recs = append(recs, rec)
			}
			r.mu.Unlock()
			if err := process.WriteRecords(r.path, recs); err != nil {
				r.log.Warn("write children records", "err", err)
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
