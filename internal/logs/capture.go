package logs

import (
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQueueBytes is how much output an instance may have queued (not yet
// handed to the sink) before its readers pause.
const DefaultQueueBytes = 256 << 10

// DefaultStall is how long a full queue waits for the sink to make progress
// before it drops lines instead of holding the child back.
const DefaultStall = 5 * time.Second

// Capture moves lines from per-instance queues to one sink. A single
// dispatcher goroutine, started on demand and ended when every queue is
// empty, hands each queue's lines to the sink as one Batch; readers only
// append to their queue. A full queue pauses its readers until the
// dispatcher has written its batch (backpressure); see the package comment.
type Capture struct {
	sink     Sink
	maxBytes int
	stall    time.Duration

	mu      sync.Mutex
	pending []*Queue // queues with lines not yet delivered
	running bool     // dispatcher goroutine active
	idle    *sync.Cond
}

// Options tune a Capture; the zero value gives the defaults.
type Options struct {
	QueueBytes int           // DefaultQueueBytes when <= 0
	Stall      time.Duration // DefaultStall when <= 0
}

// NewCapture returns a Capture writing to sink.
func NewCapture(sink Sink, o Options) *Capture {
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.Stall <= 0 {
		o.Stall = DefaultStall
	}
	if sink == nil {
		sink = Discard
	}
	c := &Capture{sink: sink, maxBytes: o.QueueBytes, stall: o.Stall}
	c.idle = sync.NewCond(&c.mu)
	return c
}

// QueueOptions describe one instance's output.
type QueueOptions struct {
	// JoinSplitRecords mends records that OpenIM 3.8's console log format
	// splits over two lines (see joinable).
	JoinSplitRecords bool
}

// Queue returns the queue of one instance.
func (c *Capture) Queue(process string, index int, o QueueOptions) *Queue {
	return &Queue{c: c, process: process, index: index, joinSplit: o.JoinSplitRecords}
}

// Flush waits until every queued line was handed to the sink.
func (c *Capture) Flush() {
	c.mu.Lock()
	for c.running {
		c.idle.Wait()
	}
	c.mu.Unlock()
}

func (c *Capture) schedule(q *Queue) {
	c.mu.Lock()
	c.pending = append(c.pending, q)
	if !c.running {
		c.running = true
		go c.dispatch()
	}
	c.mu.Unlock()
}

func (c *Capture) dispatch() {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.running = false
			c.pending = nil
			c.idle.Broadcast()
			c.mu.Unlock()
			return
		}
		q := c.pending[0]
		c.pending[0] = nil
		c.pending = c.pending[1:]
		c.mu.Unlock()
		q.deliver(c.sink)
	}
}

// Queue is the bounded line queue of one instance. Its readers (one per
// pipe) may run concurrently.
type Queue struct {
	c         *Capture
	process   string
	index     int
	joinSplit bool

	dropped atomic.Uint64 // every line dropped so far

	mu         sync.Mutex
	cur        *Batch // lines not yet taken by the dispatcher
	spare      *Batch // an empty batch to swap in
	scheduled  bool
	unreported int      // dropped lines not yet reported in the output
	waiters    []func() // paused readers, resumed when there is room
	dropping   bool     // the sink stalled: drop instead of pausing
	stallTimer *time.Timer
}

// Dropped returns how many lines of this instance were dropped so far
// because the sink made no progress.
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// append queues lines (texts in arena) and reports whether the queue is
// now full: the caller should pause reading and call WhenRoom.
func (q *Queue) append(s Stream, t int64, arena []byte, lines []line) (full bool) {
	if len(lines) == 0 {
		return false
	}
	q.mu.Lock()
	if q.dropping && q.cur != nil && q.cur.Bytes() >= q.c.maxBytes {
		q.dropped.Add(uint64(len(lines)))
		q.unreported += len(lines)
		q.mu.Unlock()
		return false
	}
	if q.cur == nil {
		q.cur, q.spare = q.spare, nil
		if q.cur == nil {
			q.cur = &Batch{Process: q.process, Index: q.index}
		}
	}
	for _, l := range lines {
		q.cur.add(s, t, arena[l.start:l.end])
	}
	full = !q.dropping && q.cur.Bytes() >= q.c.maxBytes
	sched := !q.scheduled
	q.scheduled = true
	q.mu.Unlock()
	if sched {
		q.c.schedule(q)
	}
	return full
}

// WhenRoom calls resume (on another goroutine) once the queue has room
// again, or once the sink stalled and the queue drops lines instead.
func (q *Queue) WhenRoom(resume func()) {
	q.mu.Lock()
	if q.dropping || q.cur == nil || q.cur.Bytes() < q.c.maxBytes {
		q.mu.Unlock()
		resume()
		return
	}
	q.waiters = append(q.waiters, resume)
	if q.stallTimer == nil {
		q.stallTimer = time.AfterFunc(q.c.stall, q.stalled)
	}
	q.mu.Unlock()
}

// stalled: the sink made no progress on this queue for the stall time.
// Drop what is queued and let the readers go on; lines are dropped (and
// counted) until the sink moves again.
func (q *Queue) stalled() {
	q.mu.Lock()
	q.stallTimer = nil
	if len(q.waiters) == 0 {
		q.mu.Unlock()
		return
	}
	q.dropping = true
	if q.cur != nil {
		n := q.cur.Len()
		q.cur.reset()
		q.dropped.Add(uint64(n))
		q.unreported += n
	}
	ws := q.waiters
	q.waiters = nil
	q.mu.Unlock()
	for _, w := range ws {
		w()
	}
}

// deliver hands the queued lines to the sink (dispatcher goroutine).
func (q *Queue) deliver(sink Sink) {
	q.mu.Lock()
	b := q.cur
	q.cur = nil
	q.scheduled = false
	dropped := q.unreported
	q.unreported = 0
	// There is room again: resume paused readers now, so that they fill
	// the next batch while this one is written.
	ws := q.waiters
	q.waiters = nil
	if q.stallTimer != nil && b != nil {
		q.stallTimer.Stop()
		q.stallTimer = nil
	}
	q.mu.Unlock()
	for _, w := range ws {
		w()
	}

	if dropped > 0 {
		sink.Write(Line{Process: q.process, Index: q.index, Stream: Stderr, Time: time.Now(),
			Text: "[openim-supervisor] " + strconv.Itoa(dropped) + " lines dropped (log sink too slow)"})
	}
	if b != nil && b.Len() > 0 {
		writeBatch(sink, b)
	}

	q.mu.Lock()
	q.dropping = false // the sink moved
	if b != nil && q.spare == nil && (cap(b.text) <= 64<<10 || b.Bytes() >= cap(b.text)/4) {
		b.reset()
		q.spare = b // keep a buffer that is used; let a burst's go
	}
	q.mu.Unlock()
}

// Consume reads r until EOF or an error, queueing each line; when the queue
// is full it waits for room. It is meant to run in its own goroutine, one
// per pipe; it closes nothing.
func (q *Queue) Consume(r io.Reader, stream Stream) {
	w := q.LineWriter(stream)
	room := make(chan struct{}, 1)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 && w.Feed(buf[:n]) {
			q.WhenRoom(func() { room <- struct{}{} })
			<-room
		}
		if err != nil {
			break
		}
	}
	w.Flush()
}
