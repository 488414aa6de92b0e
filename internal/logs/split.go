package logs

import (
	"bytes"
	"time"
)

// splitter cuts one stream's bytes into lines and appends them to its queue.
// Each line is cleaned on the way: a trailing \r and terminal colour codes
// (ESC [ ... m) are removed, since the output goes to files and the journal,
// not a terminal. With joinSplit it also mends OpenIM's split records (see
// joinable).
type splitter struct {
	q         *Queue
	stream    Stream
	joinSplit bool

	carry []byte // partial line; nil when none
	held  []byte // a complete line waiting for its continuation (joinSplit)
	hold  bool   // held is valid
	tmp   []byte // scratch for one line (joinSplit)
	esc   bool   // the current feed has an ESC: clean colour codes
	out   []line // lines of the current feed, handed to the queue at once
	arena []byte // texts of out
}

type line struct{ start, end int }

// feed splits p, then hands its complete lines to the queue in one go.
// It reports whether the queue is now full (see Queue.append).
func (s *splitter) feed(p []byte) bool {
	s.out, s.arena = s.out[:0], s.arena[:0]
	s.esc = bytes.IndexByte(p, 0x1b) >= 0 || bytes.IndexByte(s.carry, 0x1b) >= 0
	for len(p) > 0 {
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
		case len(s.carry) == 0:
			s.emit(p[:i])
		case len(s.carry)+i > MaxLine:
			room := MaxLine - len(s.carry)
			s.carry = append(s.carry, p[:room]...)
			s.emit(s.carry)
			s.carry = s.carry[:0]
			p = p[room:]
			continue
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
	full := s.q.append(s.stream, time.Now().UnixNano(), s.arena, s.out)
	if cap(s.arena) > 256<<10 {
		s.arena, s.out = nil, nil // do not keep a burst's buffer per pipe
	}
	return full
}

// emit cleans b and adds it to the lines of this feed. The usual line is
// copied once, into the arena; only a held OpenIM line is copied again.
func (s *splitter) emit(b []byte) {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	start := len(s.arena)
	if s.esc {
		s.arena = appendClean(s.arena, b)
	} else {
		s.arena = append(s.arena, b...)
	}
	if s.joinSplit {
		cur := s.arena[start:]
		if s.hold {
			s.hold = false
			s.tmp = append(s.tmp[:0], cur...)
			s.arena = append(s.arena[:start], s.held...)
			if len(s.tmp) > 0 && s.tmp[0] == ']' {
				s.arena = append(s.arena, s.tmp...) // the continuation: one record
				s.out = append(s.out, line{start, len(s.arena)})
				return
			}
			s.out = append(s.out, line{start, len(s.arena)})
			start = len(s.arena)
			s.arena = append(s.arena, s.tmp...)
			cur = s.arena[start:]
		}
		if joinable(cur) {
			s.held = append(s.held[:0], cur...)
			s.hold = true
			s.arena = s.arena[:start]
			return
		}
	}
	s.out = append(s.out, line{start, len(s.arena)})
}

// add appends the line a+b.
func (s *splitter) add(a, b []byte) {
	start := len(s.arena)
	s.arena = append(append(s.arena, a...), b...)
	s.out = append(s.out, line{start, len(s.arena)})
}

// flush queues a final partial line and a held one (the stream ended).
func (s *splitter) flush() {
	s.out, s.arena = s.out[:0], s.arena[:0]
	s.esc = true
	if len(s.carry) > 0 {
		s.emit(s.carry)
	}
	if s.hold {
		s.hold = false
		s.add(s.held, nil)
	}
	if len(s.out) > 0 {
		s.q.append(s.stream, time.Now().UnixNano(), s.arena, s.out)
	}
	s.carry, s.held, s.tmp, s.out, s.arena = nil, nil, nil, nil, nil
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

// LineWriter splits bytes fed to it into lines of one stream of a Queue;
// used by a caller that reads the pipe itself (one poller for many pipes).
// Not safe for concurrent use.
type LineWriter struct{ s splitter }

// LineWriter returns a splitter for stream feeding q.
func (q *Queue) LineWriter(stream Stream) *LineWriter {
	return &LineWriter{s: splitter{q: q, stream: stream, joinSplit: q.joinSplit}}
}

// Feed queues every complete line in p and keeps the rest. It reports
// whether the queue is full: the caller should stop reading and call
// Queue.WhenRoom.
func (w *LineWriter) Feed(p []byte) (full bool) { return w.s.feed(p) }

// Flush queues a final partial line (the stream ended).
func (w *LineWriter) Flush() { w.s.flush() }

// WhenRoom calls resume once the queue has room again (Queue.WhenRoom).
func (w *LineWriter) WhenRoom(resume func()) { w.s.q.WhenRoom(resume) }
