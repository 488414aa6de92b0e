package logs

import (
	"io"
	"strconv"
	"sync"
	"time"
)

// DefaultQueue is the default number of lines queued per instance before
// lines are dropped.
const DefaultQueue = 1024

// Capture moves lines from per-instance queues to one sink. A single
// dispatcher goroutine, started on demand and ended when every queue is
// empty, calls the sink; readers only append to their queue, so a slow sink
// never blocks a child.
type Capture struct {
	sink     Sink
	queueMax int
	now      func() time.Time

	// bufs holds read buffers; a reader borrows one only while data is
	// actually being read, so an idle pipe costs no buffer.
	bufs sync.Pool

	mu      sync.Mutex
	pending []*Queue // queues with lines not yet delivered
	running bool     // dispatcher goroutine active
	idle    *sync.Cond
}

// NewCapture returns a Capture writing to sink, queueing at most queueMax
// lines per instance (DefaultQueue when <= 0).
func NewCapture(sink Sink, queueMax int) *Capture {
	if queueMax <= 0 {
		queueMax = DefaultQueue
	}
	if sink == nil {
		sink = Discard
	}
	c := &Capture{sink: sink, queueMax: queueMax, now: time.Now}
	c.idle = sync.NewCond(&c.mu)
	c.bufs.New = func() any { b := make([]byte, 4096); return &b }
	return c
}

// Queue returns the queue of one instance.
func (c *Capture) Queue(process string, index int) *Queue {
	return &Queue{c: c, process: process, index: index}
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
	// c.mu held.
	c.pending = append(c.pending, q)
	if !c.running {
		c.running = true
		go c.dispatch()
	}
}

func (c *Capture) dispatch() {
	var batch []Line
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
		batch = q.take(batch[:0])
		dropped := q.dropped
		q.dropped = 0
		q.scheduled = false
		c.mu.Unlock()

		if dropped > 0 {
			c.sink.Write(Line{Process: q.process, Index: q.index, Stream: Stderr, Time: c.now(),
				Text: "[openim-supervisor] " + strconv.Itoa(dropped) + " lines dropped (log sink too slow)"})
		}
		for i := range batch {
			c.sink.Write(batch[i])
			batch[i] = Line{}
		}
		if cap(batch) > 64 {
			batch = nil // do not keep a large burst buffer alive
		}
	}
}

// Queue is the bounded line queue of one instance. Its readers (one per
// pipe) may run concurrently.
type Queue struct {
	c       *Capture
	process string
	index   int

	// guarded by c.mu: a circular buffer of n lines starting at head
	lines     []Line
	head, n   int
	dropped   int
	scheduled bool
}

// take appends the queued lines to dst in order and empties the queue.
// c.mu held.
func (q *Queue) take(dst []Line) []Line {
	for i := 0; i < q.n; i++ {
		k := (q.head + i) % len(q.lines)
		dst = append(dst, q.lines[k])
		q.lines[k] = Line{}
	}
	q.head, q.n = 0, 0
	if cap(q.lines) > 64 {
		q.lines = nil // a burst is over: give the memory back
	}
	return dst
}

// Dropped returns the number of lines dropped and not yet reported.
func (q *Queue) Dropped() int {
	q.c.mu.Lock()
	defer q.c.mu.Unlock()
	return q.dropped
}

func (q *Queue) push(stream Stream, text []byte) {
	l := Line{Process: q.process, Index: q.index, Stream: stream, Time: q.c.now(), Text: string(text)}
	c := q.c
	c.mu.Lock()
	switch {
	case q.n < len(q.lines):
		q.lines[(q.head+q.n)%len(q.lines)] = l
		q.n++
	case len(q.lines) < c.queueMax: // grow (only from an empty head)
		if q.head != 0 {
			q.lines = append(q.lines[q.head:], q.lines[:q.head]...)
			q.head = 0
		}
		q.lines = append(q.lines, l)
		q.lines = q.lines[:cap(q.lines)]
		if len(q.lines) > c.queueMax {
			q.lines = q.lines[:c.queueMax]
		}
		q.n++
	default: // full: drop the oldest line, keep the newest
		q.lines[q.head] = l
		q.head = (q.head + 1) % len(q.lines)
		q.dropped++
	}
	if !q.scheduled {
		q.scheduled = true
		c.schedule(q)
	}
	c.mu.Unlock()
}

// splitter accumulates bytes and emits complete lines.
type splitter struct {
	q      *Queue
	stream Stream
	carry  []byte // partial line; nil when none
}

func (s *splitter) feed(p []byte) {
	for len(p) > 0 {
		i := indexByte(p, '\n')
		if i < 0 {
			room := MaxLine - len(s.carry)
			if len(p) < room {
				s.carry = append(s.carry, p...)
				return
			}
			s.carry = append(s.carry, p[:room]...)
			s.emit(s.carry)
			s.carry = s.carry[:0]
			p = p[room:]
			continue
		}
		if len(s.carry) > 0 {
			if len(s.carry)+i > MaxLine {
				room := MaxLine - len(s.carry)
				s.carry = append(s.carry, p[:room]...)
				s.emit(s.carry)
				s.carry = s.carry[:0]
				p = p[room:]
				continue
			}
			s.carry = append(s.carry, p[:i]...)
			s.emit(s.carry)
			s.carry = s.carry[:0]
		} else {
			s.emit(p[:i])
		}
		p = p[i+1:]
	}
	if cap(s.carry) > 4096 && len(s.carry) == 0 {
		s.carry = nil // shrink after a long line
	}
}

func (s *splitter) emit(b []byte) {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	s.q.push(s.stream, b)
}

func (s *splitter) flush() {
	if len(s.carry) > 0 {
		s.emit(s.carry)
	}
	s.carry = nil
}

func indexByte(p []byte, c byte) int {
	for i, b := range p {
		if b == c {
			return i
		}
	}
	return -1
}

// Consume reads r until EOF or an error, queueing each line. It is meant to
// run in its own goroutine, one per pipe; it closes nothing.
func (q *Queue) Consume(r io.Reader, stream Stream) {
	s := &splitter{q: q, stream: stream}
	readLines(r, s)
	s.flush()
}

// LineWriter splits bytes fed to it into lines of one stream of a Queue;
// used by a caller that reads the pipe itself (one poller for many pipes).
// Not safe for concurrent use.
type LineWriter struct{ s splitter }

// LineWriter returns a splitter for stream feeding q.
func (q *Queue) LineWriter(stream Stream) *LineWriter {
	return &LineWriter{s: splitter{q: q, stream: stream}}
}

// Feed queues every complete line in p and keeps the rest.
func (w *LineWriter) Feed(p []byte) { w.s.feed(p) }

// Flush queues a final partial line.
func (w *LineWriter) Flush() { w.s.flush() }
