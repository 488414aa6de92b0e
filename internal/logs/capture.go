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
const DefaultQueueBytes = 512 << 10

// DefaultStall is how long a full queue waits for the sink to make progress
// before it drops lines instead of holding the child back.
const DefaultStall = 5 * time.Second

// Capture moves lines from per-instance queues to one sink. A single
// Up to two dispatcher goroutines, started on demand and ended when every
// queue is empty, hand each queue's lines to the sink as one Batch (one
// queue at a time per dispatcher, so each instance's lines stay in order);
// readers only append to their queue. A full queue pauses its readers until the
// dispatcher has written its batch (backpressure); see the package comment.
type Capture struct {
	sink     Sink
	maxBytes int
	stall    time.Duration

	mu      sync.Mutex
	pending []*Queue // queues with lines not yet delivered
	running int      // dispatcher goroutines active
	idle    *sync.Cond
	// free holds delivered batches for reuse by any queue: a burst reuses
	// its buffers instead of allocating one per batch, and the garbage
	// collector empties the pool once the burst is over.
	free sync.Pool
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
	for c.running > 0 {
		c.idle.Wait()
	}
	c.mu.Unlock()
}

// dispatchers is the most dispatcher goroutines: two, so that one
// instance's write to its file overlaps another's.
const dispatchers = 2

func (c *Capture) schedule(q *Queue) {
	c.mu.Lock()
	c.pending = append(c.pending, q)
	if c.running < dispatchers && c.running < len(c.pending) {
		c.running++
		go c.dispatch()
	}
	c.mu.Unlock()
}

func (c *Capture) dispatch() {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.running--
			c.pending = nil
			if c.running == 0 {
				c.idle.Broadcast()
			}
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
	scratch    *Batch // lines being dropped (see fill)
	scheduled  bool
	unreported int      // dropped lines not yet reported in the output
	waiters    []func() // paused readers, resumed when there is room
	dropping   bool     // the sink stalled: drop instead of pausing
	stallTimer *time.Timer
}

// Dropped returns how many lines of this instance were dropped so far
// because the sink made no progress.
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// fill returns the batch a reader appends lines to, with q.mu held until
// filled. While the sink is stalled and the queue is full, it is a scratch
// batch whose lines filled counts as dropped.
func (q *Queue) fill() *Batch {
	q.mu.Lock()
	if q.dropping && q.cur != nil && q.cur.Bytes() >= q.c.maxBytes {
		if q.scratch == nil {
			q.scratch = &Batch{}
		}
		return q.scratch
	}
	if q.cur == nil {
		q.cur = q.c.getBatch(q.process, q.index)
	}
	return q.cur
}

// filled ends fill: b now has the lines [before, b.Len()) more. It reports
// whether the queue is now full: the caller should pause reading and call
// WhenRoom.
func (q *Queue) filled(b *Batch, before int) (full bool) {
	if b == q.scratch {
		n := b.Len() - before
		q.dropped.Add(uint64(n))
		q.unreported += n
		b.reset()
		if cap(b.text) > 256<<10 {
			q.scratch = nil
		}
		q.mu.Unlock()
		return false
	}
	if b.Len() == before {
		q.mu.Unlock()
		return false
	}
	full = !q.dropping && b.Bytes() >= q.c.maxBytes
	sched := !q.scheduled
	q.scheduled = true
	q.mu.Unlock()
	if sched {
		q.c.schedule(q)
	}
	return full
}

// getBatch takes a batch from the pool, or makes one.
func (c *Capture) getBatch(process string, index int) *Batch {
	b, _ := c.free.Get().(*Batch)
	if b == nil {
		b = &Batch{}
	}
	b.Process, b.Index = process, index
	return b
}

// putBatch returns a delivered batch to the pool, unless it is far larger
// than a queue holds (a line of MaxLine bytes can make it so).
func (c *Capture) putBatch(b *Batch) {
	if cap(b.text) > 2*c.maxBytes+2*MaxLine {
		return
	}
	b.reset()
	c.free.Put(b)
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

	if b != nil {
		q.c.putBatch(b)
	}
	// q stays scheduled while it is delivered, so that no other
	// dispatcher writes its next batch meanwhile (lines stay in order).
	q.mu.Lock()
	q.dropping = false // the sink moved
	again := q.cur != nil && q.cur.Len() > 0 || q.unreported > 0
	q.scheduled = again
	q.mu.Unlock()
	if again {
		q.c.schedule(q)
	}
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
