package logs

import "time"

// Batch is a run of lines of one instance, in order, stored back to back in
// one buffer: moving a burst of output costs one allocation per batch, not
// one per line. A sink must not keep a Batch (or a Text slice of it) after
// WriteBatch returns; Line copies.
type Batch struct {
	Process string
	Index   int

	text  []byte
	lines []lineMeta
}

type lineMeta struct {
	end    int32 // end of the line's text in Batch.text
	stream Stream
	time   int64 // unix nanoseconds
}

// BatchSink is a Sink that takes a run of lines at once, much cheaper per
// line than Write. Capture uses WriteBatch when a sink has it.
type BatchSink interface {
	Sink
	WriteBatch(b *Batch)
}

// Len is the number of lines.
func (b *Batch) Len() int { return len(b.lines) }

// Bytes is the size of the lines' text.
func (b *Batch) Bytes() int { return len(b.text) }

// Text is line i's text (valid until WriteBatch returns).
func (b *Batch) Text(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = b.lines[i-1].end
	}
	return b.text[start:b.lines[i].end]
}

// Stream of line i.
func (b *Batch) Stream(i int) Stream { return b.lines[i].stream }

// UnixNano is line i's time.
func (b *Batch) UnixNano(i int) int64 { return b.lines[i].time }

// Line returns line i as a Line (its text copied).
func (b *Batch) Line(i int) Line {
	return Line{Process: b.Process, Index: b.Index, Stream: b.lines[i].stream,
		Time: time.Unix(0, b.lines[i].time), Text: string(b.Text(i))}
}

func (b *Batch) add(s Stream, t int64, text []byte) {
	b.text = append(b.text, text...)
	b.lines = append(b.lines, lineMeta{end: int32(len(b.text)), stream: s, time: t})
}

func (b *Batch) reset() {
	b.text = b.text[:0]
	b.lines = b.lines[:0]
}

// writeBatch hands b to s line by line unless s takes batches.
func writeBatch(s Sink, b *Batch) {
	if bs, ok := s.(BatchSink); ok {
		bs.WriteBatch(b)
		return
	}
	for i := range b.lines {
		s.Write(b.Line(i))
	}
}
