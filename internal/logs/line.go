// Package logs captures the output of child processes line by line and hands
// the lines to sinks: files with size rotation, the systemd journal, and an
// in-memory ring used by `openim-supervisor logs`.
//
// Each instance has a bounded queue between its pipe readers and the sink.
// Lines move in batches (one buffer per run of lines, see Batch), so the
// sink keeps up with a child writing as fast as it can. When the queue is
// full its readers pause (the pipe fills and the child waits, as under
// runit or s6): nothing is lost while the sink makes progress. Only when the
// sink makes none for the stall time (a hung disk or journal) does the
// queue drop lines instead, counting them; a "N lines dropped" marker is
// written once the sink moves again.
package logs

import (
	"strconv"
	"time"
)

// Stream says which pipe a line came from.
type Stream uint8

const (
	Stdout Stream = iota
	Stderr
)

func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// MaxLine is the longest line kept whole; longer lines are split.
const MaxLine = 64 << 10

// Line is one line of a child's output (without the newline).
type Line struct {
	Process string
	Index   int
	Stream  Stream
	Time    time.Time
	Text    string
}

// ID is "name:index".
func (l Line) ID() string { return l.Process + ":" + strconv.Itoa(l.Index) }

// Sink receives lines. A Capture calls it from up to two goroutines at
// once, for different instances (one instance's lines come in order, from
// one goroutine at a time), so a sink must be safe for concurrent use.
// A sink that also implements BatchSink gets runs of lines at once.
type Sink interface {
	Write(Line)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Line)

// Write calls f.
func (f SinkFunc) Write(l Line) { f(l) }

// Multi writes every line to each sink in order; nil sinks are skipped.
func Multi(sinks ...Sink) Sink {
	var out multi
	for _, s := range sinks {
		if s != nil {
			out = append(out, s)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

type multi []Sink

func (m multi) Write(l Line) {
	for _, s := range m {
		s.Write(l)
	}
}

func (m multi) WriteBatch(b *Batch) {
	for _, s := range m {
		writeBatch(s, b)
	}
}

// Discard drops every line.
var Discard Sink = SinkFunc(func(Line) {})
