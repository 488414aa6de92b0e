package logs

import (
	"bytes"
	"testing"
)

// BenchmarkFloodToFile: 100-byte lines, read 64 KiB at a time, through the
// queue into a FileSink (the path a flooding child's output takes).
func BenchmarkFloodToFile(b *testing.B) {
	fs, err := NewFileSink(b.TempDir(), 1<<30, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	c := NewCapture(fs, Options{})
	w := c.Queue("flood", 0, QueueOptions{JoinSplitRecords: true}).LineWriter(Stdout)
	chunk := bytes.Repeat(append(bytes.Repeat([]byte("F"), 99), '\n'), 655)
	b.SetBytes(int64(len(chunk)))
	room := make(chan struct{}, 1)
	for b.Loop() {
		if w.Feed(chunk) {
			w.WhenRoom(func() { room <- struct{}{} })
			<-room
		}
	}
	c.Flush()
}

// BenchmarkFloodToFileAndRing: as BenchmarkFloodToFile, with the ring the
// supervisor always has beside its sink.
func BenchmarkFloodToFileAndRing(b *testing.B) {
	fs, err := NewFileSink(b.TempDir(), 1<<30, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	c := NewCapture(Multi(fs, NewRing(0)), Options{})
	w := c.Queue("flood", 0, QueueOptions{JoinSplitRecords: true}).LineWriter(Stdout)
	chunk := bytes.Repeat(append(bytes.Repeat([]byte("F"), 99), '\n'), 655)
	b.SetBytes(int64(len(chunk)))
	room := make(chan struct{}, 1)
	for b.Loop() {
		if w.Feed(chunk) {
			w.WhenRoom(func() { room <- struct{}{} })
			<-room
		}
	}
	c.Flush()
}
