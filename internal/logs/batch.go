package logs

import (
	"sort"
	"time"
)

// Batch is a run of lines of one instance, in order, stored back to back in
// one buffer as log-file records, "<time> <stream> <text>\n" (see
// AppendPrefix): moving a burst of output costs no allocation per line, and
// a file sink writes a batch with one write and no copy. Text(i) is a
// line's text without the prefix and the newline. A sink must not keep a
// Batch (or a Text slice of it) after WriteBatch returns; Line copies.
type Batch struct {
	Process string
	Index   int

	text  []byte // the records
	lines []lineMeta
}

type lineMeta struct {
	time   int64 // unix nanoseconds
	end    int32 // end of the record in Batch.text (after its newline)
	start  int32 // start of the line's text in Batch.text
	stream Stream
}

// BatchSink is a Sink that takes a run of lines at once, much cheaper per
// line than Write. Capture uses WriteBatch when a sink has it.
type BatchSink interface {
	Sink
	WriteBatch(b *Batch)
}

// Len is the number of lines.
func (b *Batch) Len() int { return len(b.lines) }

// Bytes is the size of the records.
func (b *Batch) Bytes() int { return len(b.text) }

// Text is line i's text (valid until WriteBatch returns).
func (b *Batch) Text(i int) []byte {
	return b.text[b.lines[i].start : b.lines[i].end-1]
}

// Records are the log-file records of lines [from, to).
func (b *Batch) Records(from, to int) []byte {
	return b.text[b.recordStart(from):b.recordStart(to)]
}

// recordStart is where line i's record starts (Bytes for i == Len).
func (b *Batch) recordStart(i int) int {
	if i == 0 {
		return 0
	}
	return int(b.lines[i-1].end)
}

// Cut returns the largest to > from such that the records of [from, to)
// take at most n bytes, or from+1 when line from alone takes more.
func (b *Batch) Cut(from, n int) int {
	base := b.recordStart(from)
	k := sort.Search(b.Len()-from, func(k int) bool { return int(b.lines[from+k].end)-base > n })
	return from + max(k, 1)
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

// startLine appends a record's prefix (made by AppendPrefix for the line's
// time and stream) and returns where its text starts. The caller appends
// the text to b.text, then calls endLine.
func (b *Batch) startLine(prefix []byte) int {
	b.text = append(b.text, prefix...)
	return len(b.text)
}

// endLine ends the record whose text started at start.
func (b *Batch) endLine(start int, s Stream, t int64) {
	b.text = append(b.text, '\n')
	b.lines = append(b.lines, lineMeta{time: t, end: int32(len(b.text)), start: int32(start), stream: s})
}

// add appends one line, formatting its prefix.
func (b *Batch) add(s Stream, t int64, text []byte) {
	var pre [48]byte
	start := b.startLine(AppendPrefix(pre[:0], t, s))
	b.text = append(b.text, text...)
	b.endLine(start, s, t)
}

// appendFrom appends the lines [from, to) of src, copying their records
// at once.
func (b *Batch) appendFrom(src *Batch, from, to int) {
	shift := int32(len(b.text) - src.recordStart(from))
	b.text = append(b.text, src.Records(from, to)...)
	for _, m := range src.lines[from:to] {
		m.start += shift
		m.end += shift
		b.lines = append(b.lines, m)
	}
}

func (b *Batch) reset() {
	b.text = b.text[:0]
	b.lines = b.lines[:0]
}

// AppendPrefix appends a record's prefix, "<time> <stream> ": the time in
// the local zone to the millisecond (RFC 3339), then "stdout" or "stderr".
func AppendPrefix(dst []byte, t int64, s Stream) []byte {
	dst = time.Unix(0, t).AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, ' ')
	dst = append(dst, s.String()...)
	return append(dst, ' ')
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
