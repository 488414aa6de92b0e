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

// check-component, which tries its components once a second, is started
// again as soon as a component that was down accepts connections: the
// pre-start ends within a poll of the component coming up, not up to a
// second later. With every component up, it runs once.
func TestCheckComponentRestartedWhenComponentsComeUp(t *testing.T) {
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

	dir := t.TempDir()
	starts, ready := filepath.Join(dir, "starts"), filepath.Join(dir, "ready")
	// A stand-in for check-component: records each start; succeeds at
	// once when the component is ready, else tries once a second.
	script := `date +%s.%N >> ` + starts + `; while [ ! -e ` + ready + ` ]; do echo "Redis check failed: connection refused"; sleep 1; done; echo "All components checks passed successfully."`
	run := func(components []Component) (*Manager, context.CancelFunc, chan error) {
		cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 1})
		cfg.PreStart = []config.Tool{{Name: "check-component", Command: "/bin/sh", Timeout: dur(30 * time.Second), Args: []string{"-c", script}}}
		cfg.ApplyDefaults()
		m, err := New(cfg, Options{Components: components})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		return m, cancel, done
	}
	startTimes := func() []time.Time {
		b, _ := os.ReadFile(starts)
		var out []time.Time
		for _, l := range strings.Fields(string(b)) {
			var sec float64
			if _, err := fmt.Sscanf(l, "%f", &sec); err == nil {
				out = append(out, time.Unix(0, int64(sec*1e9)))
			}
		}
		return out
	}
	waitPhase := func(m *Manager, want Phase) {
		deadline := time.Now().Add(15 * time.Second)
		for m.Snapshot().Phase != want {
			if time.Now().After(deadline) {
				t.Fatalf("phase %s, want %s: %+v", m.Snapshot().Phase, want, m.Snapshot())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	m, cancel, done := run([]Component{{Name: "MongoDB", Addr: up.Addr().String()}, {Name: "Redis", Addr: late}})
	deadline := time.Now().Add(10 * time.Second)
	for m.Snapshot().Tools[0].Attempt < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the tool does not retry: %+v", m.Snapshot())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(startTimes()); n != 1 {
		t.Fatalf("%d starts while Redis is down, want 1", n)
	}
	if err := os.WriteFile(ready, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err = net.Listen("tcp", late)
	if err != nil {
		t.Fatalf("reopen %s: %v", late, err)
	}
	defer ln.Close()
	opened := time.Now()
	waitPhase(m, PhaseRunning)
	st := startTimes()
	if len(st) != 2 {
		t.Fatalf("%d starts of check-component, want 2 (again once Redis came up)", len(st))
	}
	if d := st[1].Sub(opened); d > 700*time.Millisecond {
		t.Errorf("started again %s after Redis came up, want within a few polls of %s", d, componentPoll)
	}
	cancel()
	<-done

	// Every component up from the start: one run, no restart.
	if err := os.Remove(starts); err != nil {
		t.Fatal(err)
	}
	m, cancel, done = run([]Component{{Name: "MongoDB", Addr: up.Addr().String()}, {Name: "Redis", Addr: late}})
	waitPhase(m, PhaseRunning)
	cancel()
	<-done
	if n := len(startTimes()); n != 1 {
		t.Errorf("%d starts with every component up, want 1", n)
	}
}
