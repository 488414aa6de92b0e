package process

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// A pipe found full by a read is grown to floodPipe, so that a flooding
// child and the poller wake once per MiB; a pipe with little output keeps
// the kernel's default.
func TestPollerGrowsAFloodedPipe(t *testing.T) {
	t.Parallel()
	poller, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer poller.Close()
	c := logs.NewCapture(&sink{}, logs.Options{})
	size := func(w *os.File) int {
		n, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	watch := func(name string) (*os.File, chan struct{}) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		fd, err := unix.Dup(int(r.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		done := make(chan struct{})
		if err := poller.watchPipe(fd, c.Queue(name, 0, logs.QueueOptions{}).LineWriter(logs.Stdout), func() { close(done) }); err != nil {
			t.Fatal(err)
		}
		return w, done
	}
	quiet, quietDone := watch("quiet")
	flood, floodDone := watch("flood")
	if size(flood) != 64<<10 {
		t.Skipf("default pipe size %d, not 64 KiB", size(flood))
	}
	line := make([]byte, 100)
	for i := range line {
		line[i] = 'F'
	}
	line[99] = '\n'
	full := make([]byte, 0, 64<<10)
	for len(full)+100 <= cap(full) {
		full = append(full, line...)
	}
	// Fill the pipe before the poller can read it: the write blocks until
	// it read, and the read finds (nearly) 64 KiB.
	for i := 0; i < 20; i++ {
		if _, err := flood.Write(full); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := quiet.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for size(flood) != floodPipe && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := size(flood); got != floodPipe {
		t.Fatalf("flooded pipe: %d bytes, want %d", got, floodPipe)
	}
	if got := size(quiet); got != 64<<10 {
		t.Fatalf("quiet pipe: %d bytes, want the default 64 KiB", got)
	}
	flood.Close()
	quiet.Close()
	<-floodDone
	<-quietDone
}
