//go:build linux

package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

func TestStartOrderReadinessAndStop(t *testing.T) {
	t.Parallel()
	needLinux(t)
	p0, p1 := freePort(t), freePort(t)
	cfg := newConfig(t,
		config.Process{Name: "openim-api", Instances: 2, Ports: []int{p0, p1}, Barrier: true,
			Ready: &config.Ready{After: dur(600 * time.Millisecond), TCP: "127.0.0.1:{port}", Timeout: dur(10 * time.Second)}},
		config.Process{Name: "openim-push", Instances: 1},
	)
	writeStandin(t, cfg, fmt.Sprintf("services:\n  openim-api: {ports: [%d, %d]}\n", p0, p1))
	h := start(t, cfg, nil)
	h.waitReady(20 * time.Second)
	st := h.m.Status()
	if len(st) != 3 || st[0].ID() != "openim-api:0" || st[1].ID() != "openim-api:1" || st[2].ID() != "openim-push:0" {
		t.Fatalf("status order: %+v", st)
	}
	for _, s := range st {
		if s.State != StateRunning || s.PID == 0 {
			t.Fatalf("%s: %+v, want running with a pid", s.ID(), s)
		}
	}
	// The api instances start together (the second does not wait for the
	// first to be ready); push, behind the barrier, only after both were up
	// 600ms and answered on their TCP port.
	if d := st[1].StartedAt.Sub(st[0].StartedAt); d < -600*time.Millisecond || d >= 600*time.Millisecond {
		t.Errorf("api instances started %v apart, want together", d)
	}
	if d := st[2].StartedAt.Sub(st[1].StartedAt); d < 600*time.Millisecond {
		t.Errorf("push started %v after api, want >= ready.after 600ms", d)
	}
	if err := h.m.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	pids := []int{st[0].PID, st[1].PID, st[2].PID}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, pid := range pids {
		if exists(pid) {
			t.Errorf("pid %d still exists after Run returned", pid)
		}
	}
	for _, s := range h.m.Status()[:2] { // push may get TERM before its handler is installed
		if s.State != StateStopped || s.LastExit == nil || s.LastExit.Code != 0 {
			t.Errorf("%s after stop: %+v, want stopped with exit 0 (graceful)", s.ID(), s)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.Paths.StateDir, "children.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("children.json left after a clean stop: %v", err)
	}
	if err := h.m.Ping(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Ping after Run: %v, want ErrNotRunning", err)
	}
}

// Without a barrier every process starts at once: a slow-to-be-ready
// process does not hold back the next.
func TestProcessesStartTogetherWithoutBarrier(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t,
		config.Process{Name: "openim-api", Instances: 1, Ready: &config.Ready{After: dur(time.Second)}},
		config.Process{Name: "openim-push", Instances: 3},
		config.Process{Name: "openim-rpc-user", Instances: 1, Ready: &config.Ready{After: dur(time.Second)}},
	)
	h := start(t, cfg, nil)
	h.waitReady(20 * time.Second)
	st := h.m.Status()
	for _, s := range st[1:] {
		if d := s.StartedAt.Sub(st[0].StartedAt); d > 500*time.Millisecond {
			t.Errorf("%s started %v after openim-api:0, want together", s.ID(), d)
		}
	}
	if snap := h.m.Snapshot(); !snap.AllReady || snap.Detail != "" {
		t.Errorf("snapshot once ready: %+v", snap)
	}
}

func TestReadyHTTPCheck(t *testing.T) {
	t.Parallel()
	needLinux(t)
	port := freePort(t)
	cfg := newConfig(t,
		config.Process{Name: "openim-api", Instances: 1, Ports: []int{port}, Barrier: true,
			Ready: &config.Ready{HTTP: "http://127.0.0.1:{port}/healthz", Timeout: dur(10 * time.Second)}},
		config.Process{Name: "openim-push", Instances: 1})
	writeStandin(t, cfg, fmt.Sprintf("services:\n  openim-api: {ports: [%d]}\n", port))
	h := start(t, cfg, nil)
	h.waitReady(20 * time.Second)
	// Ready means the check answered: the port serves now.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		t.Fatalf("api not serving although ready: %v", err)
	}
	resp.Body.Close()
	api, push := h.get("openim-api:0"), h.get("openim-push:0")
	if push.StartedAt.Before(api.StartedAt) {
		t.Fatalf("push started before api")
	}
	// POST /crash: the stand-in exits 1 and is restarted (always).
	resp, err = http.Post(fmt.Sprintf("http://127.0.0.1:%d/crash", port), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := h.waitFor("openim-api:0", 10*time.Second, "restart after /crash", func(s InstanceStatus) bool { return s.Restarts == 1 })
	if s.LastExit == nil || s.LastExit.Code != 1 {
		t.Fatalf("after /crash: %+v", s.LastExit)
	}
	waitLine(t, h.m, "openim-api:0", "crash requested over HTTP", 5*time.Second)
}

func TestReadyTimeoutCountsAsFailedStart(t *testing.T) {
	t.Parallel()
	needLinux(t)
	port := freePort(t) // nobody listens there
	cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 1, Restart: config.RestartNever,
		Ready: &config.Ready{TCP: fmt.Sprintf("127.0.0.1:%d", port), Timeout: dur(300 * time.Millisecond)}})
	h := start(t, cfg, nil)
	s := h.waitState("openim-api:0", StateExited, 10*time.Second)
	if s.LastExit == nil || s.LastExit.Signal != "KILL" {
		t.Fatalf("after ready timeout: %+v, want killed", s)
	}
}

func TestRestartPolicies(t *testing.T) {
	t.Parallel()
	needLinux(t)
	crash := map[string]string{"STANDIN_CRASH_AFTER": "50ms", "STANDIN_EXIT_CODE": "3"}
	clean := map[string]string{"STANDIN_CRASH_AFTER": "50ms", "STANDIN_EXIT_CODE": "0"}
	cases := []struct {
		policy  config.RestartPolicy
		env     map[string]string
		restart bool
	}{
		{config.RestartAlways, crash, true},
		{config.RestartAlways, clean, true},
		{config.RestartOnFailure, crash, true},
		{config.RestartOnFailure, clean, false},
		{config.RestartNever, crash, false},
		{config.RestartNever, clean, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/exit%s", c.policy, c.env["STANDIN_EXIT_CODE"]), func(t *testing.T) {
			t.Parallel()
			cfg := newConfig(t, config.Process{Name: "extra", Command: filepath.Join(standinDir, "extra"),
				Instances: 1, Restart: c.policy, Env: c.env})
			h := start(t, cfg, nil)
			h.waitReady(10 * time.Second)
			if c.restart {
				s := h.waitFor("extra:0", 10*time.Second, "2 restarts", func(s InstanceStatus) bool { return s.Restarts >= 2 })
				if s.LastExit == nil || fmt.Sprint(s.LastExit.Code) != c.env["STANDIN_EXIT_CODE"] {
					t.Fatalf("last exit %+v", s.LastExit)
				}
				return
			}
			s := h.waitState("extra:0", StateExited, 10*time.Second)
			if s.Restarts != 0 || s.LastExit == nil || fmt.Sprint(s.LastExit.Code) != c.env["STANDIN_EXIT_CODE"] {
				t.Fatalf("%+v, want exited without restart", s)
			}
		})
	}
}

func TestBackoffFailedAndCooldown(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "extra", Command: filepath.Join(standinDir, "extra"), Instances: 1,
		Env: map[string]string{"STANDIN_CRASH_AFTER": "1ms"},
		Backoff: &config.Backoff{Initial: dur(100 * time.Millisecond), Max: dur(400 * time.Millisecond),
			StableAfter: dur(10 * time.Second), MaxFailures: 5, Window: dur(time.Minute), Cooldown: dur(time.Second)}})
	h := start(t, cfg, nil)
	// The first crash restarts at once; then delays grow: 100, 200, 400
	// (+-20%), and the 5th failure (maxFailures) marks it failed.
	var delays []time.Duration
	var lastExit time.Time
	for len(delays) < 3 {
		s := h.waitFor("extra:0", 10*time.Second, "backoff", func(s InstanceStatus) bool {
			return s.State == StateBackoff && s.LastExit != nil && !s.LastExit.Time.Equal(lastExit)
		})
		lastExit = s.LastExit.Time
		delays = append(delays, s.NextStart.Sub(s.LastExit.Time))
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	for i, d := range delays {
		// +-20% jitter; NextStart is taken when the loop handles the exit,
		// which on a loaded machine comes a little after the exit time.
		lo, hi := want[i]*75/100, want[i]*125/100+150*time.Millisecond
		if i == 2 {
			hi = want[i] + 150*time.Millisecond // capped at max
		}
		if d < lo || d > hi {
			t.Errorf("delay %d = %v, want about %v", i, d, want[i])
		}
	}
	f := h.waitState("extra:0", StateFailed, 10*time.Second)
	if d := f.NextStart.Sub(f.Since); d < 900*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("cool-down %v, want 1s", d)
	}
	// Exactly maxFailures starts: the first and 4 restarts; the crash's code shows.
	if f.Restarts != 4 || f.Failures != 5 || f.MaxFailures != 5 || f.LastExit == nil || f.LastExit.Code != 1 {
		t.Errorf("failed: %+v (last exit %+v), want 4 restarts, failures 5/5, exit code 1", f, f.LastExit)
	}
	restarts := f.Restarts
	// After the cool-down it is tried again, with fresh counters (backoff, not failed).
	s := h.waitFor("extra:0", 10*time.Second, "retry after cool-down", func(s InstanceStatus) bool { return s.Restarts > restarts })
	if time.Since(f.Since) < 900*time.Millisecond {
		t.Errorf("retried %v after failing, before the cool-down", time.Since(f.Since))
	}
	h.waitFor("extra:0", 10*time.Second, "backoff after cool-down", func(s InstanceStatus) bool {
		return s.State == StateBackoff && s.Restarts > restarts+1
	})
	_ = s
}

func TestImmediateRestartAfterStableRun(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-push", Instances: 1,
		Backoff: &config.Backoff{Initial: dur(time.Second), Max: dur(5 * time.Second), StableAfter: dur(300 * time.Millisecond),
			MaxFailures: 5, Window: dur(time.Minute), Cooldown: dur(time.Minute)}})
	h := start(t, cfg, nil)
	h.waitReady(10 * time.Second)
	time.Sleep(400 * time.Millisecond) // longer than stableAfter
	s := h.get("openim-push:0")
	killed := time.Now()
	if err := syscall.Kill(s.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	n := h.waitFor("openim-push:0", 5*time.Second, "new pid", func(n InstanceStatus) bool { return n.PID != 0 && n.PID != s.PID })
	lat := n.StartedAt.Sub(killed)
	t.Logf("restart latency after SIGKILL: %v", lat)
	if lat > 500*time.Millisecond { // the backoff would have been >= 800ms
		t.Fatalf("restart took %v, want immediate", lat)
	}
	if n.Restarts != 1 || n.LastExit == nil || n.LastExit.Signal != "KILL" || n.LastExit.Code != 137 {
		t.Fatalf("after kill: %+v", n)
	}
	// A quick crash now restarts at once too (the first of a streak)...
	if err := syscall.Kill(n.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	n2 := h.waitFor("openim-push:0", 5*time.Second, "new pid", func(s InstanceStatus) bool { return s.PID != 0 && s.PID != n.PID })
	if n2.Failures != 2 { // every exit counts toward maxFailures, long runs too
		t.Errorf("failures after two exits: %d", n2.Failures)
	}
	// ... and the next quick one backs off by the initial delay.
	if err := syscall.Kill(n2.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b := h.waitState("openim-push:0", StateBackoff, 5*time.Second)
	if d := b.NextStart.Sub(b.LastExit.Time); d < 700*time.Millisecond {
		t.Fatalf("second crash delay %v, want ~1s", d)
	}
}

func TestStopGracefulAndForced(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t,
		config.Process{Name: "openim-api", Instances: 1, Env: map[string]string{"STANDIN_STOP_DELAY": "100ms"}},
		config.Process{Name: "openim-push", Instances: 1, StopTimeout: dur(400 * time.Millisecond),
			Env: map[string]string{"STANDIN_IGNORE_TERM": "1"}},
	)
	h := start(t, cfg, nil)
	h.waitReady(10 * time.Second)
	waitLine(t, h.m, "openim-api:0", "started", 5*time.Second) // its TERM handler is installed
	waitLine(t, h.m, "openim-push:0", "started", 5*time.Second)
	ctx := context.Background()
	t0 := time.Now()
	if err := h.m.Stop(ctx, Target{Name: "openim-api", Index: -1}); err != nil {
		t.Fatal(err)
	}
	if s := h.get("openim-api:0"); s.State != StateStopped || s.LastExit.Code != 0 || s.LastExit.Signal != "" {
		t.Fatalf("graceful stop: %+v", s)
	}
	if d := time.Since(t0); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("graceful stop took %v, want the child's 100ms", d)
	}
	t0 = time.Now()
	if err := h.m.Stop(ctx, Target{Name: "openim-push", Index: 0}); err != nil {
		t.Fatal(err)
	}
	s := h.get("openim-push:0")
	if s.State != StateStopped || s.LastExit.Signal != "KILL" {
		t.Fatalf("forced stop: %+v, want SIGKILL", s)
	}
	if d := time.Since(t0); d < 400*time.Millisecond || d > 3*time.Second {
		t.Errorf("forced stop took %v, want stop timeout 400ms then kill", d)
	}
	waitLine(t, h.m, "openim-push:0", "ignoring", 5*time.Second)
	// Stopped instances stay stopped, and start again on request.
	if err := h.m.Start(ctx, Target{All: true, Index: -1}); err != nil {
		t.Fatal(err)
	}
	for _, s := range h.m.Status() {
		if s.State != StateRunning {
			t.Fatalf("after Start all: %+v", s)
		}
	}
	if err := h.m.Stop(ctx, Target{Name: "nope", Index: -1}); !errors.Is(err, ErrNoSuchTarget) {
		t.Fatalf("Stop unknown: %v", err)
	}
}

func TestRollingRestart(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-msgtransfer", Instances: 3,
		Ready: &config.Ready{After: dur(150 * time.Millisecond)}})
	var mu sync.Mutex
	maxDown := 0
	h := start(t, cfg, nil)
	h.waitReady(10 * time.Second)
	before := h.m.Status()
	observe := make(chan struct{})
	go func() { // count instances not running at any change
		for {
			select {
			case <-observe:
				return
			case <-h.wake:
			}
			down := 0
			for _, s := range h.m.Status() {
				if s.State != StateRunning {
					down++
				}
			}
			mu.Lock()
			if down > maxDown {
				maxDown = down
			}
			mu.Unlock()
		}
	}()
	if err := h.m.Restart(context.Background(), Target{Name: "openim-msgtransfer", Index: -1}, true); err != nil {
		t.Fatal(err)
	}
	close(observe)
	after := h.m.Status()
	for i := range after {
		if after[i].PID == before[i].PID || after[i].State != StateRunning {
			t.Fatalf("instance %d not restarted: %+v", i, after[i])
		}
		if i > 0 && after[i].StartedAt.Sub(after[i-1].StartedAt) < 150*time.Millisecond {
			t.Errorf("instance %d started %v after %d, want after it was ready (150ms)", i,
				after[i].StartedAt.Sub(after[i-1].StartedAt), i-1)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if maxDown > 1 {
		t.Errorf("%d instances were down at once during a rolling restart", maxDown)
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t,
		config.Process{Name: "openim-api", Instances: 1},
		config.Process{Name: "openim-push", Instances: 3},
		config.Process{Name: "openim-rpc-user", Instances: 1},
	)
	h := start(t, cfg, nil)
	h.waitReady(10 * time.Second)
	before := map[string]InstanceStatus{}
	for _, s := range h.m.Status() {
		before[s.ID()] = s
	}
	next := *cfg
	next.Processes = []config.Process{
		{Name: "openim-api", Instances: 1, Env: map[string]string{"CHANGED": "1"}}, // changed
		{Name: "openim-push", Instances: 2},                                        // push:2 removed
		{Name: "openim-msgtransfer", Instances: 1},                                 // added
	} // rpc-user removed
	next.ApplyDefaults()
	res, err := h.m.Reload(context.Background(), &next)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("added=%v removed=%v changed=%v unchanged=%d", res.Added, res.Removed, res.Changed, res.Unchanged)
	want := "added=[openim-msgtransfer:0] removed=[openim-push:2 openim-rpc-user:0] changed=[openim-api:0] unchanged=2"
	if got != want {
		t.Fatalf("reload result %s, want %s", got, want)
	}
	var ids []string
	for _, s := range h.m.Status() {
		ids = append(ids, s.ID())
		if s.State != StateRunning {
			t.Errorf("%s: %s after reload", s.ID(), s.State)
		}
	}
	if strings.Join(ids, " ") != "openim-api:0 openim-push:0 openim-push:1 openim-msgtransfer:0" {
		t.Fatalf("instances after reload: %v", ids)
	}
	for _, id := range []string{"openim-push:0", "openim-push:1"} {
		if s := h.get(id); s.PID != before[id].PID {
			t.Errorf("%s: pid %d -> %d, unchanged instance was restarted", id, before[id].PID, s.PID)
		}
	}
	if s := h.get("openim-api:0"); s.PID == before["openim-api:0"].PID {
		t.Errorf("changed instance kept its pid")
	}
	for _, id := range []string{"openim-push:2", "openim-rpc-user:0"} {
		waitGone(t, before[id].PID, time.Second, exists)
	}
	// An unchanged reload changes nothing.
	res, err = h.m.Reload(context.Background(), &next)
	if err != nil || len(res.Added)+len(res.Removed)+len(res.Changed) != 0 || res.Unchanged != 4 {
		t.Fatalf("identical reload: %+v, %v", res, err)
	}
}

func TestPreStartToolFailureAbortsWithOutput(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 1})
	cfg.PreStart = []config.Tool{{Name: "check-free-memory"}, {Name: "check-component"}, {Name: "seq"}}
	writeStandin(t, cfg, "failTools: [check-component]\n")
	m, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = m.Run(ctx)
	if err == nil {
		t.Fatal("Run succeeded with a failing pre-start tool")
	}
	msg := err.Error()
	for _, want := range []string{"check-component", "exit code 1", "failing as configured by failTools"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if got := lines(m, "check-free-memory:0"); len(got) != 1 || !strings.Contains(got[0], "ok") {
		t.Errorf("first tool output kept: %q", got)
	}
	if got := lines(m, "seq:0"); len(got) != 0 {
		t.Errorf("seq ran after check-component failed: %q", got)
	}
	if s := m.Status()[0]; s.State != StateStopped || s.PID != 0 {
		t.Errorf("service started after a tool failure: %+v", s)
	}
	// Tools passing: services start.
	writeStandin(t, cfg, "failTools: []\n")
	h := start(t, cfg, nil)
	h.waitReady(10 * time.Second)
	if got := lines(h.m, "seq:0"); len(got) != 1 {
		t.Errorf("seq output: %q", got)
	}
}

func TestLogCaptureToFilesAndRing(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 2,
		Env: map[string]string{"STANDIN_STDERR": "an error line"}})
	fs, err := logs.NewFileSink(cfg.Paths.LogDir, 1<<20, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	h := start(t, cfg, fs)
	h.waitReady(10 * time.Second)
	waitLine(t, h.m, "openim-api:1", "an error line", 5*time.Second)
	waitLine(t, h.m, "openim-api:1", "index 1 started", 5*time.Second)
	tail := h.m.Logs().Tail("openim-api:1", 0)
	var sawOut, sawErr bool
	for _, l := range tail {
		sawOut = sawOut || (l.Stream == logs.Stdout && strings.Contains(l.Text, "index 1 started"))
		sawErr = sawErr || (l.Stream == logs.Stderr && l.Text == "an error line")
	}
	if !sawOut || !sawErr {
		t.Fatalf("ring lines %+v", tail)
	}
	h.stop()
	b, err := os.ReadFile(filepath.Join(cfg.Paths.LogDir, "openim-api.1.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), " stdout openim-api (stand-in) index 1 started") || !strings.Contains(string(b), " stderr an error line") {
		t.Fatalf("log file:\n%s", b)
	}
}

func TestLogRotationWithSpammingChild(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "extra", Command: filepath.Join(standinDir, "extra"), Instances: 1,
		Restart: config.RestartNever, Env: map[string]string{"STANDIN_SPAM": "30000", "STANDIN_CRASH_AFTER": "1ms", "STANDIN_EXIT_CODE": "0"}})
	fs, err := logs.NewFileSink(cfg.Paths.LogDir, 1<<20, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	h := start(t, cfg, fs)
	h.waitState("extra:0", StateExited, 20*time.Second)
	h.stop() // flushes
	rotated, _ := filepath.Glob(filepath.Join(cfg.Paths.LogDir, "extra.0.log.*"))
	if len(rotated) < 1 {
		entries, _ := os.ReadDir(cfg.Paths.LogDir)
		t.Fatalf("no rotated file for ~3 MiB of output: %v", entries)
	}
	cur, err := os.ReadFile(filepath.Join(cfg.Paths.LogDir, "extra.0.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cur), "spam done: 30000 lines") {
		t.Fatalf("last line missing from the current file")
	}
}

func TestGrandchildKilledWithGroupAndReaped(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "extra", Command: filepath.Join(standinDir, "extra"), Instances: 1,
		Restart: config.RestartNever, Env: map[string]string{"STANDIN_GRANDCHILD": "1", "STANDIN_CRASH_AFTER": "300ms"}})
	h := start(t, cfg, nil)
	line := waitLine(t, h.m, "extra:0", "grandchild pid", 10*time.Second)
	var gc int
	if _, err := fmt.Sscanf(line, "grandchild pid %d", &gc); err != nil || gc <= 0 {
		t.Fatalf("parse %q: %v", line, err)
	}
	if !alive(gc) {
		t.Fatalf("grandchild %d not running", gc)
	}
	h.waitState("extra:0", StateExited, 10*time.Second)
	// The leader exited: its group (the grandchild) is killed, and the
	// zombie re-parented to us (child subreaper) is reaped.
	waitGone(t, gc, time.Second, exists)
}
