package logs

import (
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQueueBytes is how much output an instance may have queued (read
// but not yet handed to the sink) before its readers pause.
const DefaultQueueBytes = 512 << 10

// DefaultStall is how long a full queue waits for the sink to make progress
// before it drops lines instead of holding the child back.
const DefaultStall = 5 * time.Second

// Capture moves lines from per-instance queues to one sink. Readers only
// append the bytes they read to their queue. Up to two dispatcher
// goroutines, started on demand and ended when every queue is empty, take
// a queue's bytes at once, cut them into lines and hand those to the sink
// in Batches (one queue at a time per dispatcher, so each instance's lines
// stay in order). A full queue pauses its readers until a dispatcher took
// its bytes (backpressure); see the package comment.
type Capture struct {
	sink     Sink
	maxBytes int
	stall    time.Duration

	mu      sync.Mutex
	pending []*Queue // queues with lines not yet delivered
	running int      // dispatcher goroutines active
	idle    *sync.Cond
	// free and freeRaw hold delivered batches for reuse by any queue: a
	// burst reuses its buffers instead of allocating one per batch, and
	// the garbage collector empties the pools once the burst is over.
	free    sync.Pool
	freeRaw sync.Pool
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
	q := &Queue{c: c, process: process, index: index}
	for i := range q.split {
		q.split[i] = splitter{stream: Stream(i), joinSplit: o.JoinSplitRecords}
	}
	return q
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

// Queue is the bounded queue of one instance. Its readers (one per pipe)
// may run concurrently; they only append the bytes they read, each read as
// one chunk with its time (put). The lines are cut and formatted when the
// queue is delivered, on a dispatcher goroutine: the poller, which reads
// every child's pipes on one goroutine, then does no per-line work, and two
// instances' lines are cut on two cores at once.
type Queue struct {
	c       *Capture
	process string
	index   int

	dropped atomic.Uint64 // every line dropped so far

	// split cuts each stream's bytes into lines; only the dispatcher
	// delivering q uses them (q stays scheduled meanwhile).
	split [2]splitter

	mu         sync.Mutex
	cur        *rawBatch // bytes not yet taken by the dispatcher
	scheduled  bool
	unreported int      // dropped lines not yet reported in the output
	gap        [2]bool  // a stream's bytes were dropped since its last chunk
	waiters    []func() // paused readers, resumed when there is room
	dropping   bool     // the sink stalled: drop instead of pausing
	stallTimer *time.Timer
}

// rawBatch is what an instance's readers queued: its pipes' bytes as read,
// back to back, in chunks (one per read) that carry the read's time and
// stream.
type rawBatch struct {
	data   []byte
	chunks []rawChunk
}

type rawChunk struct {
	time   int64 // unix nanoseconds
	end    int32 // end of the chunk in rawBatch.data
	stream Stream
	flags  uint8
}

const (
	chunkGap uint8 = 1 << iota // bytes of the stream were dropped before this chunk
	chunkEOF                   // the stream ended after this chunk
)

// bigRead is a read that shows a flood (a pipe found well filled).
const bigRead = 32 << 10

// splitStep is the most bytes cut into lines at once: a batch is handed to
// the sink once it holds the queue's size, so even a read of empty lines
// (2 bytes each, 33 as records) makes batches of bounded size.
const splitStep = 16 << 10

// Dropped returns how many lines of this instance were dropped so far
// because the sink made no progress.
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// put queues p, read from stream s now, and schedules the queue. It
// reports whether the queue is now full: the caller should pause reading
// and call WhenRoom. While the sink is stalled and the queue is full, p is
// dropped and its lines counted instead.
func (q *Queue) put(s Stream, p []byte, flags uint8) (full bool) {
	t := time.Now().UnixNano()
	q.mu.Lock()
	if q.dropping && q.cur != nil && len(q.cur.data) >= q.c.maxBytes && flags&chunkEOF == 0 {
		n := countLines(p)
		q.dropped.Add(uint64(n))
		q.unreported += n
		q.gap[s] = true
		q.mu.Unlock()
		return false
	}
	if len(p) == 0 && flags == 0 {
		q.mu.Unlock()
		return false
	}
	if q.cur == nil {
		q.cur = q.c.getRaw()
	}
	if q.gap[s] {
		q.gap[s] = false
		flags |= chunkGap
	}
	if len(p) >= bigRead && cap(q.cur.data)-len(q.cur.data) < len(p) {
		// A flood: make room for a full queue (up to 1 MiB) at once
		// rather than doubling into it.
		q.cur.data = slices.Grow(q.cur.data, min(q.c.maxBytes, 1<<20)+len(p))
	}
	q.cur.data = append(q.cur.data, p...)
	q.cur.chunks = append(q.cur.chunks, rawChunk{time: t, end: int32(len(q.cur.data)), stream: s, flags: flags})
	full = !q.dropping && len(q.cur.data) >= q.c.maxBytes
	sched := !q.scheduled
	q.scheduled = true
	q.mu.Unlock()
	if sched {
		q.c.schedule(q)
	}
	return full
}

// getRaw takes a raw batch from the pool, or makes one.
func (c *Capture) getRaw() *rawBatch {
	if r, _ := c.freeRaw.Get().(*rawBatch); r != nil {
		return r
	}
	return &rawBatch{}
}

// putRaw returns a delivered raw batch to the pool, unless it is far
// larger than a queue holds.
func (c *Capture) putRaw(r *rawBatch) {
	if cap(r.data) > 2*c.maxBytes+2*MaxLine {
		return
	}
	r.data, r.chunks = r.data[:0], r.chunks[:0]
	c.freeRaw.Put(r)
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
	if q.dropping || q.cur == nil || len(q.cur.data) < q.c.maxBytes {
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
// counted) until the sink moves again. The end of a stream is kept, so
// that its last partial line is still written.
func (q *Queue) stalled() {
	q.mu.Lock()
	q.stallTimer = nil
	if len(q.waiters) == 0 {
		q.mu.Unlock()
		return
	}
	q.dropping = true
	if r := q.cur; r != nil {
		n := countLines(r.data)
		q.dropped.Add(uint64(n))
		q.unreported += n
		chunks := r.chunks
		r.data, r.chunks = r.data[:0], r.chunks[:0]
		q.gap = [2]bool{true, true}
		for _, ch := range chunks {
			if ch.flags&chunkEOF != 0 {
				r.chunks = append(r.chunks, rawChunk{time: ch.time, stream: ch.stream, flags: chunkEOF | chunkGap})
				q.gap[ch.stream] = false
			}
		}
	}
	ws := q.waiters
	q.waiters = nil
	q.mu.Unlock()
	for _, w := range ws {
		w()
	}
}

// deliver cuts the queued bytes into lines and hands them to the sink
// (dispatcher goroutine).
func (q *Queue) deliver(sink Sink) {
	q.mu.Lock()
	r := q.cur
	q.cur = nil
	dropped := q.unreported
	q.unreported = 0
	// There is room again: resume paused readers now, so that they fill
	// the next batch while this one is written.
	ws := q.waiters
	q.waiters = nil
	if q.stallTimer != nil && r != nil {
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
	if r != nil {
		q.cut(r, sink)
		q.c.putRaw(r)
	}

	// q stays scheduled while it is delivered, so that no other
	// dispatcher writes its next batch meanwhile (lines stay in order).
	q.mu.Lock()
	q.dropping = false // the sink moved
	again := q.cur != nil || q.unreported > 0
	q.scheduled = again
	q.mu.Unlock()
	if again {
		q.c.schedule(q)
	}
}

// cut splits r's chunks into lines, each stream by its own splitter, and
// hands them to the sink in batches of about the queue's size.
func (q *Queue) cut(r *rawBatch, sink Sink) {
	b := q.c.getBatch(q.process, q.index)
	if len(r.data) >= bigRead {
		// Room for what the records of r take with 32-byte prefixes and
		// 100-byte lines, at once rather than doubling into it.
		b.text = slices.Grow(b.text, min(len(r.data)+len(r.data)/3, q.c.maxBytes+2*splitStep))
	}
	from := 0
	for _, ch := range r.chunks {
		sp := &q.split[ch.stream]
		if ch.flags&chunkGap != 0 {
			sp.flush(b, ch.time) // a partial line before the gap stands alone
		}
		for p := r.data[from:ch.end]; len(p) > 0; {
			k := min(len(p), splitStep)
			sp.feed(b, p[:k], ch.time)
			p = p[k:]
			if b.Bytes() >= q.c.maxBytes {
				writeBatch(sink, b)
				b.reset()
			}
		}
		if ch.flags&chunkEOF != 0 {
			sp.flush(b, ch.time)
		}
		from = int(ch.end)
	}
	if b.Len() > 0 {
		writeBatch(sink, b)
	}
	q.c.putBatch(b)
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
