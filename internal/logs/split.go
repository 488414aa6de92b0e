package logs

import (
	"bytes"
	"slices"
)

// splitter cuts one stream's bytes into lines and appends them, as records
// (see Batch), to a batch. Each line is cleaned on the way: a trailing \r
// and terminal colour codes (ESC [ ... m) are removed, since the output
// goes to files and the journal, not a terminal. With joinSplit it also
// mends OpenIM's split records (see joinable). It keeps a partial line
// from one feed to the next.
type splitter struct {
	stream    Stream
	joinSplit bool

	carry  []byte // partial line; nil when none
	held   []byte // a complete line waiting for its continuation (joinSplit)
	hold   bool   // held is valid
	tmp    []byte // scratch for one line (joinSplit)
	esc    bool   // the current feed has an ESC: clean colour codes
	b      *Batch // the batch being filled (during feed and flush)
	t      int64  // time of the current feed
	prefix []byte // record prefix of the current feed
}

// feed appends the complete lines of p, read at t, to b, and keeps the
// rest.
func (s *splitter) feed(b *Batch, p []byte, t int64) {
	s.begin(b, t)
	s.esc = bytes.IndexByte(p, 0x1b) >= 0 || bytes.IndexByte(s.carry, 0x1b) >= 0
	fast := !s.esc && !s.joinSplit
	for len(p) > 0 {
		if fast && len(s.carry) == 0 {
			if p = s.plain(p); len(p) == 0 {
				break
			}
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := MaxLine - len(s.carry)
			if len(p) < room {
				s.carry = append(s.carry, p...)
				break
			}
			s.carry = append(s.carry, p[:room]...)
			s.emit(s.carry)
			s.carry = s.carry[:0]
			p = p[room:]
			continue
		}
		switch {
		case len(s.carry)+i > MaxLine:
			room := MaxLine - len(s.carry)
			s.carry = append(s.carry, p[:room]...)
			s.emit(s.carry)
			s.carry = s.carry[:0]
			p = p[room:]
			continue
		case len(s.carry) == 0:
			s.emit(p[:i])
		default:
			s.carry = append(s.carry, p[:i]...)
			s.emit(s.carry)
			s.carry = s.carry[:0]
		}
		p = p[i+1:]
	}
	if cap(s.carry) > 4096 && len(s.carry) == 0 {
		s.carry = nil // shrink after a long line
	}
	s.b = nil
}

// plain appends the complete lines of p that need no cleaning but the
// \r and no mending (the usual output), and returns the rest: the same as
// emit line by line, in one loop. The batch is grown once for the whole of
// p, so that each line costs its newline search and two copies, not three
// appends.
func (s *splitter) plain(p []byte) []byte {
	n := countLines(p)
	if n == 0 {
		return p
	}
	b := s.b
	b.text = slices.Grow(b.text, len(p)+n*len(s.prefix))
	b.lines = slices.Grow(b.lines, n)
	text := b.text[:cap(b.text)]
	off := len(b.text)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 || i > MaxLine {
			break
		}
		x := p[:i]
		if i > 0 && x[i-1] == '\r' {
			x = x[:i-1]
		}
		off += copy(text[off:], s.prefix)
		start := off
		off += copy(text[off:], x)
		text[off] = '\n'
		off++
		b.lines = append(b.lines, lineMeta{time: s.t, end: int32(off), start: int32(start), stream: s.stream})
		p = p[i+1:]
	}
	b.text = text[:off]
	return p
}

// countLines counts the newlines in p.
func countLines(p []byte) int { return bytes.Count(p, []byte{'\n'}) }

// begin makes the records' prefix for time t; lines go to b.
func (s *splitter) begin(b *Batch, t int64) {
	if t != s.t || len(s.prefix) == 0 {
		s.prefix = AppendPrefix(s.prefix[:0], t, s.stream)
	}
	s.b, s.t = b, t
}

// emit cleans b and appends it as a record. The usual line is copied once,
// into the batch; only a held OpenIM line is copied again.
func (s *splitter) emit(x []byte) {
	if n := len(x); n > 0 && x[n-1] == '\r' {
		x = x[:n-1]
	}
	b := s.b
	start := b.startLine(s.prefix)
	if s.esc {
		b.text = appendClean(b.text, x)
	} else {
		b.text = append(b.text, x...)
	}
	if s.joinSplit {
		cur := b.text[start:]
		if s.hold {
			s.hold = false
			s.tmp = append(s.tmp[:0], cur...)
			b.text = append(b.text[:start], s.held...)
			if len(s.tmp) > 0 && s.tmp[0] == ']' {
				b.text = append(b.text, s.tmp...) // the continuation: one record
				b.endLine(start, s.stream, s.t)
				return
			}
			b.endLine(start, s.stream, s.t)
			start = b.startLine(s.prefix)
			b.text = append(b.text, s.tmp...)
			cur = b.text[start:]
		}
		if joinable(cur) {
			s.held = append(s.held[:0], cur...)
			s.hold = true
			b.text = b.text[:start-len(s.prefix)]
			return
		}
	}
	b.endLine(start, s.stream, s.t)
}

// flush appends a partial line and a held one to b as they are (the
// stream ended, or bytes before the next were dropped).
func (s *splitter) flush(b *Batch, t int64) {
	s.begin(b, t)
	s.esc = true
	if len(s.carry) > 0 {
		s.emit(s.carry)
	}
	if s.hold {
		s.hold = false
		start := s.b.startLine(s.prefix)
		s.b.text = append(s.b.text, s.held...)
		s.b.endLine(start, s.stream, s.t)
	}
	s.b = nil
	s.carry, s.held, s.tmp, s.prefix = nil, nil, nil, nil
}

// joinable reports whether a line ends in an unclosed "[v..." tag: OpenIM
// 3.8's console log format prints its version, which carries a trailing
// newline ("v3.8.3\n"), inside brackets in every record, so each record
// arrives as "... [v3.8.3" and "]   [caller] message ...". Such a line is
// held until the next one; if that starts with "]" the two are one record.
func joinable(b []byte) bool {
	tail := b[max(0, len(b)-41):]
	i := bytes.LastIndexByte(tail, '[')
	if i < 0 {
		return false
	}
	tag := tail[i+1:]
	if len(tag) < 2 || len(tag) > 40 || tag[0] != 'v' || tag[1] < '0' || tag[1] > '9' {
		return false
	}
	return bytes.IndexAny(tag, "] \t") < 0
}

// appendClean appends b without terminal colour sequences (ESC [ params m).
func appendClean(dst, b []byte) []byte {
	for {
		i := bytes.IndexByte(b, 0x1b)
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		b = b[i:]
		// ESC [ (digits ;)* m
		j := 1
		if j < len(b) && b[j] == '[' {
			j++
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';') {
				j++
			}
			if j < len(b) && b[j] == 'm' {
				b = b[j+1:]
				continue
			}
		}
		dst = append(dst, b[0]) // not a colour sequence: keep the ESC
		b = b[1:]
	}
}

// LineWriter queues the bytes of one stream of a Queue, to be cut into
// lines by the dispatcher; used by a caller that reads the pipe itself (one
// poller for many pipes). Not safe for concurrent use.
type LineWriter struct {
	q      *Queue
	stream Stream
}

// LineWriter returns the writer of stream feeding q.
func (q *Queue) LineWriter(stream Stream) *LineWriter {
	return &LineWriter{q: q, stream: stream}
}

// Feed queues p (its lines, and a partial line completed by a later Feed).
// It reports whether the queue is full: the caller should stop reading and
// call WhenRoom.
func (w *LineWriter) Feed(p []byte) (full bool) { return w.q.put(w.stream, p, 0) }

// Flush ends the stream: a final partial line is written as it is.
func (w *LineWriter) Flush() { w.q.put(w.stream, nil, chunkEOF) }

// WhenRoom calls resume once the queue has room again (Queue.WhenRoom).
func (w *LineWriter) WhenRoom(resume func()) { w.q.WhenRoom(resume) }
