//go:build linux

package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// A tool that keeps failing the way check-component does (one "X check
// failed" line per try): while it runs, the snapshot says which tool and
// which attempt, the instances are pending, Ping answers; when its timeout
// ends it, the error carries its last output, and nothing starts.
func TestPreStartVisibleAndTimeoutCarriesOutput(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 2})
	cfg.PreStart = []config.Tool{{Name: "check-component", Command: "/bin/sh", Timeout: dur(1500 * time.Millisecond),
		Args: []string{"-c", `i=0; while :; do i=$((i+1)); echo "Mongo check succeeded."; echo "Kafka check failed: dial tcp 127.0.0.1:1: connect: connection refused (try $i)"; sleep 0.1; done`}}}
	cfg.ApplyDefaults()
	var journal collectLines
	m, err := New(cfg, Options{Output: &journal})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()

	var snap Snapshot
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap = m.Snapshot()
		if snap.Phase == PhasePreStart && len(snap.Tools) == 1 && snap.Tools[0].Attempt >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pre-start progress: %+v", snap)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(snap.Detail, "pre-start: check-component, attempt ") || snap.AllReady || snap.Deadline.IsZero() {
		t.Errorf("snapshot during pre-start: %+v", snap)
	}
	if tl := snap.Tools[0]; tl.State != ToolRunning || tl.PID == 0 || !strings.Contains(tl.LastLine, "check") {
		t.Errorf("tool status %+v", tl)
	}
	for _, s := range snap.Instances {
		if s.State != StatePending {
			t.Errorf("%s: %s during pre-start, want pending", s.ID(), s.State)
		}
	}
	if err := m.Ping(context.Background()); err != nil {
		t.Errorf("Ping during pre-start: %v", err)
	}
	if got := lines(m, "check-component:0"); len(got) == 0 || !strings.Contains(got[0], "check") {
		t.Errorf("`logs check-component`: %q", got)
	}

	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not end after the tool's timeout")
	}
	msg := fmtErr(runErr)
	for _, want := range []string{"check-component", "did not finish within its timeout (1.5s)", "attempts",
		"Kafka check failed: dial tcp 127.0.0.1:1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	snap = m.Snapshot()
	if snap.Phase != PhaseFailed || snap.Tools[0].State != ToolFailed || !strings.Contains(snap.Detail, "timeout") {
		t.Errorf("after the timeout: %+v", snap)
	}
	for _, s := range snap.Instances {
		if s.PID != 0 || s.Restarts != 0 {
			t.Errorf("%s started after a failed pre-start: %+v", s.ID(), s)
		}
	}
	// The tool's lines went to the output sink (the journal) under its name.
	if n := journal.count("check-component", "Kafka check failed"); n < 3 {
		t.Errorf("%d tool lines in the output sink", n)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// A stop during pre-start is a clean stop, not a failure.
func TestStopDuringPreStart(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 1})
	cfg.PreStart = []config.Tool{{Name: "slow", Command: "/bin/sh", Args: []string{"-c", "echo waiting; exec sleep 60"}}}
	cfg.ApplyDefaults()
	m, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitLine(t, m, "slow:0", "waiting", 10*time.Second)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
}

type collectLines struct {
	mu sync.Mutex
	l  []logs.Line
}

func (c *collectLines) Write(l logs.Line) {
	c.mu.Lock()
	c.l = append(c.l, l)
	c.mu.Unlock()
}

func (c *collectLines) count(process, substr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.l {
		if l.Process == process && strings.Contains(l.Text, substr) {
			n++
		}
	}
	return n
}

// check-component starts only once every component accepts a connection,
// and within a poll of the late one coming up; meanwhile the status says
// which component it waits for. A component that never comes up fails the
// pre-start within the tool's timeout, naming it, without starting the tool.
func TestCheckComponentWaitsForComponents(t *testing.T) {
	t.Parallel()
	needLinux(t)
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	late := ln.Addr().String()
	ln.Close() // refused until reopened below

	mark := filepath.Join(t.TempDir(), "started")
	cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 1})
	cfg.PreStart = []config.Tool{{Name: "check-component", Command: "/bin/sh", Timeout: dur(20 * time.Second),
		Args: []string{"-c", `date +%s.%N > ` + mark + `; echo "All components checks passed successfully."`}}}
	cfg.ApplyDefaults()
	m, err := New(cfg, Options{Components: []Component{{Name: "MongoDB", Addr: up.Addr().String()}, {Name: "Redis", Addr: late}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	deadline := time.Now().Add(10 * time.Second)
	var snap Snapshot
	for {
		snap = m.Snapshot()
		if strings.Contains(snap.Detail, "waiting for Redis at "+late) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status does not say what pre-start waits for: %+v", snap)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("check-component started while Redis was not reachable")
	}
	ln, err = net.Listen("tcp", late)
	if err != nil {
		t.Fatalf("reopen %s: %v", late, err)
	}
	defer ln.Close()
	opened := time.Now()
	for {
		b, err := os.ReadFile(mark)
		if err == nil && len(b) > 0 {
			var sec float64
			if _, err := fmt.Sscanf(string(b), "%f", &sec); err != nil {
				t.Fatal(err)
			}
			started := time.Unix(0, int64(sec*1e9))
			if d := started.Sub(opened); d > time.Second {
				t.Errorf("check-component started %s after Redis came up, want within a poll (%s)", d, componentPoll)
			}
			break
		}
		if time.Since(opened) > 10*time.Second {
			t.Fatal("check-component did not start after Redis came up")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Never up: the pre-start fails within the tool's timeout, naming it.
	cfg2 := newConfig(t, config.Process{Name: "openim-api", Instances: 1})
	cfg2.PreStart = []config.Tool{{Name: "check-component", Command: "/bin/sh", Timeout: dur(700 * time.Millisecond),
		Args: []string{"-c", "touch " + mark + ".2"}}}
	cfg2.ApplyDefaults()
	m2, err := New(cfg2, Options{Components: []Component{{Name: "Kafka", Addr: "127.0.0.1:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	runErr := m2.Run(context.Background())
	if msg := fmtErr(runErr); !strings.Contains(msg, "check-component: not started: Kafka at 127.0.0.1:1 not reachable") {
		t.Errorf("error %s", msg)
	}
	if _, err := os.Stat(mark + ".2"); err == nil {
		t.Error("the tool ran although its component never came up")
	}
}
