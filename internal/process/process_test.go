package process

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

func needUnix(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	return sh
}

type sink struct {
	mu    sync.Mutex
	lines []string
}

func (s *sink) Write(l logs.Line) {
	s.mu.Lock()
	s.lines = append(s.lines, l.Stream.String()+":"+l.Text)
	s.mu.Unlock()
}

func (s *sink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "|")
}

// modes runs f with goroutines per child, with the epoll poller, and with
// the poller and a forker thread (Linux).
func modes(t *testing.T, f func(t *testing.T, poller *Poller, forker *Forker)) {
	t.Run("goroutines", func(t *testing.T) { t.Parallel(); f(t, nil, nil) })
	poller := func(t *testing.T) *Poller {
		p, err := NewPoller()
		if err != nil {
			t.Fatal(err)
		}
		if p == nil {
			t.Skip("no poller on this OS")
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	t.Run("poller", func(t *testing.T) { t.Parallel(); f(t, poller(t), nil) })
	t.Run("forker", func(t *testing.T) {
		t.Parallel()
		p := poller(t)
		fk, err := NewForker(2)
		if err != nil {
			t.Fatal(err)
		}
		// After the children are gone (Cleanup runs last-in first-out).
		t.Cleanup(func() { fk.Close() })
		f(t, p, fk)
	})
}

func TestExitStatusAndOutput(t *testing.T) {
	t.Parallel()
	sh := needUnix(t)
	modes(t, func(t *testing.T, poller *Poller, forker *Forker) {
		out := &sink{}
		c := logs.NewCapture(out, logs.Options{})
		ctx := context.Background()
		p, err := Start(ctx, Spec{Path: sh, Args: []string{"-c", "echo hello; echo oops >&2; exit 3"},
			Output: c.Queue("t", 0, logs.QueueOptions{}), Poller: poller, Forker: forker})
		if err != nil {
			t.Fatal(err)
		}
		ex, err := p.Wait(ctx)
		if err != nil || ex.Code != 3 || ex.Signaled() {
			t.Fatalf("exit %+v %v, want code 3", ex, err)
		}
		<-p.OutputDone()
		c.Flush()
		if got := out.all(); !strings.Contains(got, "stdout:hello") || !strings.Contains(got, "stderr:oops") {
			t.Fatalf("output %q", got)
		}
		p, err = Start(ctx, Spec{Path: sh, Args: []string{"-c", "kill -KILL $$"}, Poller: poller, Forker: forker})
		if err != nil {
			t.Fatal(err)
		}
		if ex := p.Exit(); ex.Code != 137 || ex.Signal != "KILL" {
			t.Fatalf("killed: %+v, want 137/KILL", ex)
		}
		if _, err := Start(ctx, Spec{Path: filepath.Join(t.TempDir(), "missing"), Poller: poller, Forker: forker}); err == nil {
			t.Fatal("starting a missing binary succeeded")
		}
	})
}

func TestStopLadder(t *testing.T) {
	t.Parallel()
	sh := needUnix(t)
	modes(t, func(t *testing.T, poller *Poller, forker *Forker) {
		ctx := context.Background()
		// Graceful: TERM ends it.
		p, err := Start(ctx, Spec{Path: sh, Args: []string{"-c", "sleep 30"}, StopTimeout: 5 * time.Second, Poller: poller, Forker: forker})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		if err := p.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d > 3*time.Second {
			t.Fatalf("graceful stop took %v", d)
		}
		// Ignoring TERM, with a grandchild: SIGKILL to the group after the timeout.
		out := &sink{}
		c := logs.NewCapture(out, logs.Options{})
		p, err = Start(ctx, Spec{Path: sh, Args: []string{"-c", `trap "" TERM; sleep 30 & echo $!; wait; wait`},
			StopTimeout: 300 * time.Millisecond, Poller: poller, Forker: forker, Output: c.Queue("t", 0, logs.QueueOptions{})})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // let the trap be installed
		t0 = time.Now()
		if err := p.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		ex := p.Exit()
		if d := time.Since(t0); d < 300*time.Millisecond || ex.Signal != "KILL" {
			t.Fatalf("forced stop after %v: %+v, want KILL after 300ms", d, ex)
		}
		<-p.OutputDone() // the grandchild held the pipe: it is dead
		c.Flush()
		gc, err := strconv.Atoi(strings.TrimPrefix(out.all(), "stdout:"))
		if err != nil {
			t.Fatalf("grandchild pid from %q", out.all())
		}
		// EOF came when it closed its files while dying; it is a zombie
		// or gone very soon after.
		deadline := time.Now().Add(time.Second)
		for {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(gc) + "/stat")
			if err != nil || strings.Contains(string(b), ") Z ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("grandchild %d still running: %s", gc, b)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestEnvironmentScrubbed(t *testing.T) {
	sh := needUnix(t)
	t.Setenv("NOTIFY_SOCKET", "/run/systemd/notify")
	t.Setenv("WATCHDOG_USEC", "1000")
	t.Setenv("LISTEN_FDS", "2")
	t.Setenv("KEEP_ME", "yes")
	out := &sink{}
	c := logs.NewCapture(out, logs.Options{})
	p, err := Start(context.Background(), Spec{Path: sh,
		Args:   []string{"-c", `echo "n=$NOTIFY_SOCKET w=$WATCHDOG_USEC l=$LISTEN_FDS k=$KEEP_ME x=$EXTRA"`},
		Env:    Environ(BaseEnv(), []string{"EXTRA=1"}),
		Output: c.Queue("t", 0, logs.QueueOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	p.Exit()
	<-p.OutputDone()
	c.Flush()
	if got := out.all(); got != "stdout:n= w= l= k=yes x=1" {
		t.Fatalf("child environment: %q", got)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", RecordsFile)
	if recs, err := ReadRecords(path); err != nil || recs != nil {
		t.Fatalf("missing file: %v %v", recs, err)
	}
	want := []Record{{ID: "a:0", PID: 10, PGID: 10, StartTime: 99}}
	if err := WriteRecords(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecords(path)
	if err != nil || len(got) != 1 || got[0] != want[0] {
		t.Fatalf("read back %v %v", got, err)
	}
}
