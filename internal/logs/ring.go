package logs

import (
	"context"
	"strconv"
	"sync"
)

// DefaultRing is the number of lines kept per instance when none is configured.
const DefaultRing = 1000

// Ring keeps the last lines of each instance in memory and lets readers tail
// and follow them. It is a Sink and safe for concurrent use.
//
// The lines are kept as copies of their bytes in a few segments per
// instance (each a Batch: one text buffer, one slice of offsets), not as
// Line values: keeping a burst's last lines then costs a copy into a reused
// buffer, no allocation and nothing for the garbage collector to scan. Line
// values are made only for a reader (Tail) or a follower.
type Ring struct {
	size int

	mu        sync.Mutex
	instances map[string]*ringBuf
}

// ringBuf holds one instance's lines: segs[0].lines[skip:] and every line
// of the later segments, oldest first. At most size of them are "kept"
// (Tail returns those); up to one segment more is held until the oldest
// segment can be dropped whole.
type ringBuf struct {
	segs  []*Batch
	skip  int    // lines of segs[0] already dropped
	n     int    // lines held
	spare *Batch // a dropped segment, reused for the next one
	subs  map[*follower]struct{}
}

type follower struct {
	ch   chan Line
	lost int
}

// NewRing keeps size lines per instance (DefaultRing when <= 0). Memory is
// allocated as lines arrive, not up front.
func NewRing(size int) *Ring {
	if size <= 0 {
		size = DefaultRing
	}
	return &Ring{size: size, instances: map[string]*ringBuf{}}
}

// segLines is the most lines one segment holds: a quarter of the ring, so
// at most a quarter more than the ring's size is held.
func (r *Ring) segLines() int { return max(16, r.size/4) }

// Write stores a line and passes it to followers (a follower too slow to
// keep up loses lines rather than blocking).
func (r *Ring) Write(l Line) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buf(l.Process, l.Index)
	b.room(r).add(l.Stream, l.Time.UnixNano(), []byte(l.Text))
	b.n++
	b.trim(r)
	b.send(l)
}

// WriteBatch stores the last ring-size lines of a batch (all of them go to
// followers).
func (r *Ring) WriteBatch(bt *Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buf(bt.Process, bt.Index)
	if len(b.subs) > 0 {
		for i := 0; i < bt.Len(); i++ {
			b.send(bt.Line(i))
		}
	}
	for i := max(0, bt.Len()-r.size); i < bt.Len(); {
		seg := b.room(r)
		k := min(bt.Len(), i+r.segLines()-seg.Len())
		seg.appendFrom(bt, i, k)
		b.n += k - i
		i = k
		b.trim(r)
	}
}

func (r *Ring) buf(process string, index int) *ringBuf {
	id := process + ":" + strconv.Itoa(index)
	b := r.instances[id]
	if b == nil {
		b = &ringBuf{}
		r.instances[id] = b
	}
	if len(b.segs) == 0 {
		b.segs = []*Batch{{Process: process, Index: index}}
	}
	return b
}

// room returns the last segment, or a new one when it is full.
func (b *ringBuf) room(r *Ring) *Batch {
	last := b.segs[len(b.segs)-1]
	if last.Len() < r.segLines() {
		return last
	}
	next := b.spare
	b.spare = nil
	if next == nil {
		next = &Batch{Process: last.Process, Index: last.Index}
	}
	b.segs = append(b.segs, next)
	return next
}

// trim drops the oldest segment while the others hold the ring's size.
func (b *ringBuf) trim(r *Ring) {
	for len(b.segs) > 1 && b.n-(b.segs[0].Len()-b.skip) >= r.size {
		old := b.segs[0]
		b.n -= old.Len() - b.skip
		b.skip = 0
		b.segs = append(b.segs[:0], b.segs[1:]...)
		if b.spare == nil && cap(old.text) <= 1<<20 {
			old.reset()
			b.spare = old // keep a buffer of usual size, let a huge one go
		}
	}
}

func (b *ringBuf) send(l Line) {
	for f := range b.subs {
		select {
		case f.ch <- l:
		default:
			f.lost++
		}
	}
}

// Tail returns up to the last n lines of the instance id ("name:index"),
// oldest first; n <= 0 means all kept lines.
func (r *Ring) Tail(id string, n int) []Line {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.instances[id]
	if b == nil || b.n == 0 {
		return nil
	}
	if n <= 0 || n > r.size {
		n = r.size
	}
	n = min(n, b.n)
	all := make([]Line, 0, n)
	skip := b.n - n // oldest lines held but not wanted
	for k, seg := range b.segs {
		i := 0
		if k == 0 {
			i = b.skip
		}
		if d := seg.Len() - i; skip >= d {
			skip -= d
			continue
		}
		for i += skip; i < seg.Len(); i++ {
			all = append(all, seg.Line(i))
		}
		skip = 0
	}
	return all
}

// Follow returns a channel receiving every new line of the instance id until
// ctx is done; the channel is then closed.
func (r *Ring) Follow(ctx context.Context, id string) <-chan Line {
	f := &follower{ch: make(chan Line, 256)}
	r.mu.Lock()
	b := r.instances[id]
	if b == nil {
		b = &ringBuf{}
		r.instances[id] = b
	}
	if b.subs == nil {
		b.subs = map[*follower]struct{}{}
	}
	b.subs[f] = struct{}{}
	r.mu.Unlock()
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		delete(b.subs, f)
		close(f.ch)
		r.mu.Unlock()
	})
	return f.ch
}

// Forget drops the kept lines of an instance (removed by a reload).
func (r *Ring) Forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b := r.instances[id]; b != nil && len(b.subs) == 0 {
		delete(r.instances, id)
	}
}
