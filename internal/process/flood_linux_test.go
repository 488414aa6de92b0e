package process

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// floodEnv makes this test binary a flooding child: it writes that many
// bytes of 100-byte lines to stdout and exits (see floodIfAsked).
const floodEnv = "OPENIM_TEST_FLOOD_BYTES"

// floodIfAsked runs the flooding child when floodEnv is set.
func floodIfAsked() {
	n, err := strconv.ParseInt(os.Getenv(floodEnv), 10, 64)
	if err != nil {
		return
	}
	buf := bytes.Repeat(append(bytes.Repeat([]byte("F"), 99), '\n'), 655)
	for n > 0 {
		k, err := os.Stdout.Write(buf[:min(int64(len(buf)), n)])
		if err != nil {
			os.Exit(1)
		}
		n -= int64(k)
	}
	os.Exit(0)
}

// BenchmarkPollerFlood: 4 children each write 50 MiB of 100-byte lines as
// fast as they can; the poller reads their pipes and the lines go through
// the queues into a FileSink, as in the flood of bench/supervision (without
// the victim). The figure is the children's bytes per second until the
// last line was handed to the sink. cpu-ms-supervisor/op is the CPU of this
// process (poller, queues, sinks, and each flood's setup and teardown);
// cpu-ms-children/op that of the 4 children.
func BenchmarkPollerFlood(b *testing.B) {
	const children, each = 4, 50 << 20
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(children * each)
	var childCPU time.Duration
	var self0, self1 unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &self0)
	for b.Loop() {
		b.StopTimer()
		fs, err := logs.NewFileSink(b.TempDir(), 50<<20, 5, nil) // the shipped log.maxSize and maxFiles
		if err != nil {
			b.Fatal(err)
		}
		poller, err := NewPoller()
		if err != nil {
			b.Fatal(err)
		}
		c := logs.NewCapture(logs.Multi(fs, logs.NewRing(0)), logs.Options{})
		done := make(chan struct{}, children)
		var cmds []*exec.Cmd
		for i := 0; i < children; i++ {
			r, w, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), floodEnv+"="+strconv.Itoa(each))
			cmd.Stdout = w
			cmds = append(cmds, cmd)
			fd, err := unix.Dup(int(r.Fd()))
			if err != nil {
				b.Fatal(err)
			}
			r.Close()
			if err := poller.watchPipe(fd, c.Queue("flood", i, logs.QueueOptions{}).LineWriter(logs.Stdout), func() { done <- struct{}{} }); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		for _, cmd := range cmds {
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			cmd.Stdout.(*os.File).Close()
		}
		for range cmds {
			<-done
		}
		c.Flush()
		b.StopTimer()
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
			childCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		poller.Close()
		fs.Close()
		b.StartTimer()
	}
	_ = unix.Getrusage(unix.RUSAGE_SELF, &self1)
	self := time.Duration(self1.Utime.Nano() + self1.Stime.Nano() - self0.Utime.Nano() - self0.Stime.Nano())
	b.ReportMetric(float64(self.Milliseconds())/float64(b.N), "cpu-ms-supervisor/op")
	b.ReportMetric(float64(childCPU.Milliseconds())/float64(b.N), "cpu-ms-children/op")
}
