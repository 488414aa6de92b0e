package process

import "sync"

// Reaper reaps zombies of orphaned grandchildren that were re-parented to
// the supervisor (a child subreaper on Linux), without ever reaping a child
// that an exec.Cmd will Wait for. Create it with NewReaper, run it with Run.
//
// It reaps only a zombie that (1) is not a child started through this
// package with this Reaper, (2) is not in the supervisor's own process group
// (children started by plain exec.Command elsewhere in the supervisor stay
// in that group and keep their own Wait) and (3) is not a process group
// leader: every child this package starts leads its own group, so another
// Manager's children in the same process (tests) are never taken from their
// Wait. An orphan that made itself a group leader (setsid) is therefore not
// reaped; it is killed with the rest at stop. Grandchildren that stay in
// their parent's group (the normal case) are reaped.
type Reaper struct {
	starts sync.RWMutex // read-held while a child is being started; the reaper takes it for writing

	mu   sync.Mutex
	ours map[int]struct{}
	n    int // zombies reaped (tests)
	scan int // scans of /proc for hidden zombies (tests)

	// gone (cap 1) is signalled when one of ours was reaped by its own
	// Wait: a zombie of ours first in line hides the others from waitid,
	// so Run looks again then instead of scanning /proc.
	gone chan struct{}
}

// NewReaper returns an idle Reaper.
func NewReaper() *Reaper { return &Reaper{ours: map[int]struct{}{}, gone: make(chan struct{}, 1)} }

func (r *Reaper) startBegin() { r.starts.RLock() }
func (r *Reaper) startEnd()   { r.starts.RUnlock() }

func (r *Reaper) add(pid int) {
	r.mu.Lock()
	r.ours[pid] = struct{}{}
	r.mu.Unlock()
}

func (r *Reaper) remove(pid int) {
	r.mu.Lock()
	delete(r.ours, pid)
	r.mu.Unlock()
	select {
	case r.gone <- struct{}{}:
	default:
	}
}

func (r *Reaper) isOurs(pid int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ours[pid]
	return ok
}

// Reaped returns how many orphaned zombies were reaped so far.
func (r *Reaper) Reaped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
