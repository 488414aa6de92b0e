package logs

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// DefaultRing is the number of lines kept per instance when none is configured.
const DefaultRing = 1000

// Ring keeps the last lines of each instance in memory and lets readers tail
// and follow them. It is a Sink and safe for concurrent use.
type Ring struct {
	size int

	mu        sync.Mutex
	instances map[string]*ringBuf
}

type ringBuf struct {
	lines []Line // grows up to size, then used circularly
	next  int    // write position once full
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

// Write stores a line and passes it to followers (a follower too slow to
// keep up loses lines rather than blocking).
func (r *Ring) Write(l Line) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buf(l.ID())
	b.store(r.size, l)
	b.send(l)
}

// WriteBatch stores the lines of a batch. Only the last ring-size lines
// are kept (all of them go to followers), and their texts are copied with
// one allocation: each Line's Text is a slice of one string. A burst costs
// one allocation per batch, not one per line.
func (r *Ring) WriteBatch(bt *Batch) {
	id := bt.Process + ":" + strconv.Itoa(bt.Index)
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buf(id)
	first := 0
	if len(b.subs) == 0 {
		first = max(0, bt.Len()-r.size)
	}
	if first >= bt.Len() {
		return
	}
	base := 0
	if first > 0 {
		base = int(bt.lines[first-1].end)
	}
	all := string(bt.text[base:])
	keepFrom := bt.Len() - r.size
	for i := first; i < bt.Len(); i++ {
		start := base
		if i > 0 {
			start = int(bt.lines[i-1].end)
		}
		m := bt.lines[i]
		l := Line{Process: bt.Process, Index: bt.Index, Stream: m.stream, Time: time.Unix(0, m.time),
			Text: all[start-base : int(m.end)-base]}
		if i >= keepFrom {
			b.store(r.size, l)
		}
		b.send(l)
	}
}

func (r *Ring) buf(id string) *ringBuf {
	b := r.instances[id]
	if b == nil {
		b = &ringBuf{}
		r.instances[id] = b
	}
	return b
}

func (b *ringBuf) store(size int, l Line) {
	if len(b.lines) < size {
		b.lines = append(b.lines, l)
	} else {
		b.lines[b.next] = l
		b.next = (b.next + 1) % size
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
	if b == nil {
		return nil
	}
	all := make([]Line, 0, len(b.lines))
	all = append(all, b.lines[b.next:]...)
	all = append(all, b.lines[:b.next]...)
	if n > 0 && n < len(all) {
		all = all[len(all)-n:]
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
