package logs

import (
	"bytes"
	"testing"
)

// BenchmarkFloodToFile: 100-byte lines, read 64 KiB at a time, through the
// queue into a FileSink (the path a flooding child's output takes).
func BenchmarkFloodToFile(b *testing.B) { benchFlood(b, false) }

// BenchmarkFloodToFileAndRing: the same, with the ring the supervisor
// always has beside its sink.
func BenchmarkFloodToFileAndRing(b *testing.B) { benchFlood(b, true) }

func benchFlood(b *testing.B, ring bool) {
	fs, err := NewFileSink(b.TempDir(), 1<<30, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	var sink Sink = fs
	if ring {
		sink = Multi(fs, NewRing(0))
	}
	c := NewCapture(sink, Options{})
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
