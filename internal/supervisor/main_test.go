package supervisor

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
	"github.com/openim-supervisor/openim-supervisor/internal/process"
)

// standinDir holds the stand-in binary under every service and tool name.
var standinDir string

var standinNames = []string{"openim-api", "openim-rpc-user", "openim-push", "openim-msgtransfer",
	"extra", "check-free-memory", "check-component", "seq"}

func TestMain(m *testing.M) {
	process.RunGuardianIfAsked() // the Manager's guardian re-executes this binary
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "standin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "openim-standin")
	build := exec.Command("go", "build", "-o", bin, "github.com/openim-supervisor/openim-supervisor/cmd/openim-standin")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build stand-in:", err)
		return 1
	}
	for _, n := range standinNames {
		if err := os.Symlink(bin, filepath.Join(dir, n)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	standinDir = dir
	return m.Run()
}

func needLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux (/proc, process groups, Pdeathsig)")
	}
}

func dur(d time.Duration) config.Duration { return config.Duration(d) }

// newConfig returns a config whose OpenIM services are the stand-in, with
// quick defaults; dir is the test's temp dir (state, logs, standin.yaml).
// Change it before start (which applies the defaults).
func newConfig(t *testing.T, procs ...config.Process) *config.Config {
	t.Helper()
	dir := t.TempDir()
	return &config.Config{
		Version: config.CurrentVersion,
		Paths: config.Paths{BinDir: standinDir, OpenIMConfigDir: dir, LogDir: filepath.Join(dir, "logs"),
			RuntimeDir: filepath.Join(dir, "run"), StateDir: filepath.Join(dir, "state")},
		Defaults: config.ProcessDefaults{
			Restart: config.RestartAlways, StopSignal: "TERM", StopTimeout: dur(5 * time.Second),
			Ready: config.Ready{Timeout: dur(10 * time.Second)},
			Backoff: config.Backoff{Initial: dur(50 * time.Millisecond), Max: dur(400 * time.Millisecond),
				StableAfter: dur(2 * time.Second), MaxFailures: 100, Window: dur(time.Minute), Cooldown: dur(time.Minute)},
		},
		Processes: procs,
		Log:       config.LogConfig{Buffer: 1000},
	}
}

// writeStandin writes standin.yaml into the config dir.
func writeStandin(t *testing.T, cfg *config.Config, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(cfg.Paths.OpenIMConfigDir, "standin.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// harness runs a Manager and lets tests wait for status conditions; it is
// woken by OnChange, so nothing polls.
type harness struct {
	t       *testing.T
	m       *Manager
	cancel  context.CancelFunc
	runErr  chan error
	wake    chan struct{}
	mu      sync.Mutex
	stopped bool
}

func start(t *testing.T, cfg *config.Config, output logs.Sink) *harness {
	t.Helper()
	h := &harness{t: t, runErr: make(chan error, 1), wake: make(chan struct{}, 1)}
	cfg.ApplyDefaults()
	m, err := New(cfg, Options{Output: output, OnChange: func() {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.runErr <- m.Run(ctx) }()
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) waitReady(timeout time.Duration) {
	h.t.Helper()
	select {
	case <-h.m.Ready():
	case err := <-h.runErr:
		h.runErr <- err
		h.t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(timeout):
		h.t.Fatalf("not ready after %v: %+v", timeout, h.m.Status())
	}
}

// stop cancels Run and waits for it; it returns Run's error.
func (h *harness) stop() error {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil
	}
	h.stopped = true
	h.mu.Unlock()
	h.cancel()
	select {
	case err := <-h.runErr:
		if bad := h.m.d.badTrans.Load(); bad != 0 {
			h.t.Errorf("%d state transitions outside the table", bad)
		}
		return err
	case <-time.After(30 * time.Second):
		h.t.Fatal("Run did not return after cancel")
		return nil
	}
}

func (h *harness) get(id string) InstanceStatus {
	for _, s := range h.m.Status() {
		if s.ID() == id {
			return s
		}
	}
	h.t.Fatalf("no instance %s", id)
	return InstanceStatus{}
}

// waitFor waits until cond holds for the status of id.
func (h *harness) waitFor(id string, timeout time.Duration, what string, cond func(InstanceStatus) bool) InstanceStatus {
	h.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if s := h.get(id); cond(s) {
			return s
		}
		select {
		case <-h.wake:
		case <-deadline.C:
			h.t.Fatalf("%s: %s not reached after %v: %+v", id, what, timeout, h.get(id))
		}
	}
}

func (h *harness) waitState(id string, st State, timeout time.Duration) InstanceStatus {
	h.t.Helper()
	return h.waitFor(id, timeout, "state "+string(st), func(s InstanceStatus) bool { return s.State == st })
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

func exists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// waitGone waits until check(pid) is false; processes dying is observed
// via /proc because they are not our children.
func waitGone(t *testing.T, pid int, timeout time.Duration, check func(int) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for check(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still there after %v", pid, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lines returns the ring's texts of an instance.
func lines(m *Manager, id string) []string {
	var out []string
	for _, l := range m.Logs().Tail(id, 0) {
		out = append(out, l.Text)
	}
	return out
}

func waitLine(t *testing.T, m *Manager, id, substr string, timeout time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := m.Logs().Follow(ctx, id)
	for _, l := range lines(m, id) {
		if strings.Contains(l, substr) {
			return l
		}
	}
	for l := range ch {
		if strings.Contains(l.Text, substr) {
			return l.Text
		}
	}
	t.Fatalf("%s: no line containing %q after %v; have %q", id, substr, timeout, lines(m, id))
	return ""
}
