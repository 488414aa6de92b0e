//go:build unix

package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

type fakeSource struct {
	ready   chan struct{}
	mu      sync.Mutex
	st      []supervisor.InstanceStatus
	snap    *supervisor.Snapshot // when set, Snapshot returns it
	pingErr atomic.Bool
	pings   atomic.Int32
}

func (f *fakeSource) Ready() <-chan struct{} { return f.ready }
func (f *fakeSource) Snapshot() supervisor.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snap != nil {
		return *f.snap
	}
	return supervisor.Snapshot{Phase: supervisor.PhaseRunning, Instances: append([]supervisor.InstanceStatus(nil), f.st...)}
}
func (f *fakeSource) Ping(context.Context) error {
	f.pings.Add(1)
	if f.pingErr.Load() {
		return errors.New("loop hung")
	}
	return nil
}
func (f *fakeSource) set(restarts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = []supervisor.InstanceStatus{
		{Name: "a", State: supervisor.StateRunning, Restarts: restarts},
		{Name: "b", State: supervisor.StateFailed},
	}
}

// listen creates a unixgram socket like systemd's and sets NOTIFY_SOCKET.
func listen(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	ch := make(chan string, 1000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return ch
}

func recv(t *testing.T, ch <-chan string, within time.Duration) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(within):
		t.Fatalf("no notify message within %v", within)
		return ""
	}
}

func quiet(t *testing.T, ch <-chan string, d time.Duration) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("unexpected notify message %q", m)
	case <-time.After(d):
	}
}

func TestReadyStatusCoalescedStopping(t *testing.T) {
	msgs := listen(t)
	t.Setenv("WATCHDOG_USEC", "")
	src := &fakeSource{ready: make(chan struct{})}
	src.set(0)
	n := New(nil)
	if !n.Enabled() || n.Watchdog() != 0 {
		t.Fatalf("enabled=%v watchdog=%v", n.Enabled(), n.Watchdog())
	}
	n.SetMinInterval(300 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, src) }()

	// Nothing before ready, even on changes... except coalesced STATUS.
	close(src.ready)
	if m := recv(t, msgs, 5*time.Second); m != "READY=1\nSTATUS=1/2 running, 1 failed, 0 restarts" {
		t.Fatalf("first message = %q", m)
	}
	// A burst of changes is coalesced: at most one STATUS per interval, and
	// the last state is always sent.
	start := time.Now()
	for i := 1; i <= 50; i++ {
		src.set(i)
		n.Changed()
		time.Sleep(time.Millisecond)
	}
	var got []string
	for {
		m := recv(t, msgs, 5*time.Second)
		got = append(got, m)
		if m == "STATUS=1/2 running, 1 failed, 50 restarts" {
			break
		}
	}
	el := time.Since(start)
	if max := int(el/(300*time.Millisecond)) + 1; len(got) > max {
		t.Errorf("%d STATUS messages in %v, want at most %d: %q", len(got), el, max, got)
	}
	// No change, no message (no ticker when idle); an unchanged summary is not resent.
	n.Changed()
	quiet(t, msgs, 700*time.Millisecond)

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n.Stopping()
	if m := recv(t, msgs, 5*time.Second); !strings.HasPrefix(m, "STOPPING=1") {
		t.Fatalf("stopping message = %q", m)
	}
}

// During the start STATUS says what is awaited, and each new deadline of
// the config's own (a tool's timeout) extends systemd's start timeout.
func TestStartProgressExtendsTimeout(t *testing.T) {
	msgs := listen(t)
	t.Setenv("WATCHDOG_USEC", "")
	src := &fakeSource{ready: make(chan struct{})}
	deadline := time.Now().Add(6 * time.Minute)
	src.snap = &supervisor.Snapshot{Phase: supervisor.PhasePreStart, Detail: "pre-start: check-component, attempt 37", Deadline: deadline}
	n := New(nil)
	n.SetMinInterval(10 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx, src)
	n.Changed()
	m := recv(t, msgs, 5*time.Second)
	var usec int64
	if _, err := fmt.Sscanf(m, "EXTEND_TIMEOUT_USEC=%d\nSTATUS=pre-start: check-component, attempt 37", &usec); err != nil ||
		!strings.HasSuffix(m, "attempt 37") {
		t.Fatalf("message %q: %v", m, err)
	}
	if d := time.Duration(usec) * time.Microsecond; d < 6*time.Minute || d > 6*time.Minute+ExtendMargin+time.Second {
		t.Fatalf("extended by %v, want the tool's deadline (6m) + %v", d, ExtendMargin)
	}
	// The same deadline is not extended again; the next step's is.
	src.mu.Lock()
	src.snap = &supervisor.Snapshot{Phase: supervisor.PhasePreStart, Detail: "pre-start: check-component, attempt 38", Deadline: deadline}
	src.mu.Unlock()
	n.Changed()
	if m := recv(t, msgs, 5*time.Second); m != "STATUS=pre-start: check-component, attempt 38" {
		t.Fatalf("message %q", m)
	}
	src.mu.Lock()
	src.snap = &supervisor.Snapshot{Phase: supervisor.PhaseStarting, Detail: "starting: 3/26 ready", Deadline: deadline.Add(time.Minute)}
	src.mu.Unlock()
	n.Changed()
	if m := recv(t, msgs, 5*time.Second); !strings.HasPrefix(m, "EXTEND_TIMEOUT_USEC=") || !strings.HasSuffix(m, "\nSTATUS=starting: 3/26 ready") {
		t.Fatalf("message %q", m)
	}
}

// TestExtendBeforeRun: run's version gate may wait 90 s for the databases,
// as long as the unit's TimeoutStartSec; it extends the start first.
func TestExtendBeforeRun(t *testing.T) {
	msgs := listen(t)
	t.Setenv("WATCHDOG_USEC", "")
	n := New(nil)
	n.Extend(90*time.Second, "version gate: reading the data version")
	m := recv(t, msgs, 5*time.Second)
	var usec int64
	if _, err := fmt.Sscanf(m, "EXTEND_TIMEOUT_USEC=%d\n", &usec); err != nil ||
		!strings.HasSuffix(m, "\nSTATUS=version gate: reading the data version") {
		t.Fatalf("message %q: %v", m, err)
	}
	if d := time.Duration(usec) * time.Microsecond; d != 90*time.Second+ExtendMargin {
		t.Fatalf("extended by %v, want 90s + %v", d, ExtendMargin)
	}
	t.Setenv("NOTIFY_SOCKET", "")
	New(nil).Extend(time.Minute, "x") // no socket: nothing sent, no panic
	quiet(t, msgs, 100*time.Millisecond)
}

func TestWatchdogOnlyAfterPing(t *testing.T) {
	msgs := listen(t)
	t.Setenv("WATCHDOG_USEC", "200000") // 200 ms: a ping every 100 ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	src := &fakeSource{ready: make(chan struct{})}
	src.set(0)
	n := New(nil)
	if n.Watchdog() != 200*time.Millisecond {
		t.Fatalf("watchdog = %v", n.Watchdog())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx, src)

	for i := 0; i < 3; i++ {
		if m := recv(t, msgs, 2*time.Second); m != "WATCHDOG=1" {
			t.Fatalf("message = %q, want WATCHDOG=1", m)
		}
	}
	// A hung loop: pings fail, so systemd gets no WATCHDOG=1.
	src.pingErr.Store(true)
	time.Sleep(150 * time.Millisecond)
	for len(msgs) > 0 {
		<-msgs
	}
	before := src.pings.Load()
	quiet(t, msgs, 500*time.Millisecond)
	if src.pings.Load()-before < 2 {
		t.Errorf("only %d pings while hung", src.pings.Load()-before)
	}
	src.pingErr.Store(false)
	if m := recv(t, msgs, 2*time.Second); m != "WATCHDOG=1" {
		t.Fatalf("message after recovery = %q", m)
	}
}

func TestDisabledWithoutSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := New(nil)
	if n.Enabled() {
		t.Fatal("enabled without NOTIFY_SOCKET")
	}
	src := &fakeSource{ready: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- n.Run(context.Background(), src) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run without a socket did not return")
	}
	n.Changed()
	n.Stopping()
}

func TestSummary(t *testing.T) {
	t.Parallel()
	st := []supervisor.InstanceStatus{
		{State: supervisor.StateRunning, Restarts: 2},
		{State: supervisor.StateBackoff, Restarts: 1},
		{State: supervisor.StateFailed},
	}
	if got, want := Summary(st), "1/3 running, 1 failed, 3 restarts"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}
