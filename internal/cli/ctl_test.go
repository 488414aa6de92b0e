//go:build unix

package cli

// End-to-end tests of run and the control commands: a real supervisor
// process (this test binary re-executed as `openim-supervisor run`, see
// TestHelperSupervisor) over real openim-standin children, driven through
// the real CLI commands, the control socket, signals, the notify socket and
// the metrics endpoint.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

const helperEnv = "OPENIM_CLI_TEST_SUPERVISOR"

// TestHelperSupervisor is not a test: re-executed with helperEnv set it
// is `openim-supervisor run`.
func TestHelperSupervisor(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for the end-to-end tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Execute(buildinfo.Info{Version: "test"}, args, os.Stdin, os.Stdout, os.Stderr))
}

// e2e is what the end-to-end tests share: the stand-in binary.
type e2e struct {
	standin string
}

// freePorts returns n distinct free TCP ports on loopback.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// procSpec is one process of a test config.
type procSpec struct {
	name      string
	instances int
	ports     []int
	extra     string // extra YAML lines under the process (indented 4)
}

type supOpts struct {
	procs   []procSpec
	metrics string // metrics.listen
	env     []string
}

// sup is one running supervisor under test.
type sup struct {
	t       *testing.T
	dir     string
	cfgPath string
	sock    string
	ports   map[string][]int
	cmd     *exec.Cmd
	out     *syncBuffer
	notify  chan string
	done    chan struct{}
	exitErr error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func defaultProcs(t *testing.T) []procSpec {
	p := freePorts(t, 4)
	return []procSpec{
		{name: "openim-api", instances: 1, ports: p[:1], extra: "    ready: {tcp: \"127.0.0.1:{port}\"}\n"},
		{name: "openim-rpc-user", instances: 1},
		{name: "openim-push", instances: 3, ports: p[1:4]},
	}
}

func renderConfig(dir string, procs []procSpec, metricsListen string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 2
paths:
  binDir: %[1]s/bin
  openimConfigDir: %[1]s/conf
  logDir: %[1]s/log
  runtimeDir: %[1]s/run
  stateDir: %[1]s/state
defaults:
  stopTimeout: 5s
  ready:
    after: 300ms
    timeout: 15s
  backoff:
    initial: 100ms
    max: 1s
    stableAfter: 1s
    maxFailures: 20
    window: 1m
    cooldown: 1m
log:
  target: file
  buffer: 200
metrics:
  listen: %q
processes:
`, dir, metricsListen)
	for _, p := range procs {
		fmt.Fprintf(&b, "  - name: %s\n    instances: %d\n", p.name, p.instances)
		if len(p.ports) > 0 {
			ps := make([]string, len(p.ports))
			for i, x := range p.ports {
				ps[i] = strconv.Itoa(x)
			}
			fmt.Fprintf(&b, "    ports: [%s]\n", strings.Join(ps, ", "))
		}
		b.WriteString(p.extra)
	}
	return b.String()
}

func (e *e2e) writeConfig(t *testing.T, dir string, procs []procSpec, metricsListen string) map[string][]int {
	t.Helper()
	ports := map[string][]int{}
	var sb strings.Builder
	sb.WriteString("services:\n")
	for _, p := range procs {
		link := filepath.Join(dir, "bin", p.name)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(e.standin, link); err != nil {
				t.Fatal(err)
			}
		}
		if len(p.ports) > 0 {
			ports[p.name] = p.ports
			ps := make([]string, len(p.ports))
			for i, x := range p.ports {
				ps[i] = strconv.Itoa(x)
			}
			fmt.Fprintf(&sb, "  %s: {ports: [%s]}\n", p.name, strings.Join(ps, ", "))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "standin.yaml"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	writeOpenIMConfig(t, filepath.Join(dir, "conf"), procs)
	cfg := renderConfig(dir, procs, metricsListen)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return ports
}

// start runs a supervisor and waits for READY=1 on its notify socket.
func (e *e2e) start(t *testing.T, o supOpts) *sup {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"bin", "conf"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if o.procs == nil {
		o.procs = defaultProcs(t)
	}
	s := &sup{t: t, dir: dir, cfgPath: filepath.Join(dir, "config.yaml"), sock: filepath.Join(dir, "run", "supervisor.sock"),
		out: &syncBuffer{}, notify: make(chan string, 1000), done: make(chan struct{})}
	s.ports = e.writeConfig(t, dir, o.procs, o.metrics)

	nsPath := filepath.Join(dir, "notify.sock")
	ns, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: nsPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ns.Read(buf)
			if err != nil {
				close(s.notify)
				return
			}
			s.notify <- string(buf[:n])
		}
	}()

	s.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperSupervisor$", "--", "run", "--config", s.cfgPath)
	s.cmd.Env = append(os.Environ(), helperEnv+"=1", "NOTIFY_SOCKET="+nsPath, "WATCHDOG_USEC=", "JOURNAL_STREAM=", "INVOCATION_ID=")
	s.cmd.Env = append(s.cmd.Env, o.env...)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
			t.Errorf("supervisor did not stop on SIGTERM; output:\n%s", s.out.String())
		}
	})
	s.expectNotify("READY=1", 30*time.Second)
	return s
}

// expectNotify waits for a notify message containing want.
func (s *sup) expectNotify(want string, within time.Duration) string {
	s.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-s.notify:
			if !ok {
				s.t.Fatalf("notify socket closed before %q; output:\n%s", want, s.out.String())
			}
			if strings.Contains(m, want) {
				return m
			}
		case <-s.done:
			// Messages sent just before the exit may still be queued.
			for {
				select {
				case m, ok := <-s.notify:
					if ok && strings.Contains(m, want) {
						return m
					}
					if ok {
						continue
					}
				case <-time.After(200 * time.Millisecond):
				}
				break
			}
			s.t.Fatalf("supervisor exited (%v) before %q; output:\n%s", s.exitErr, want, s.out.String())
		case <-deadline:
			s.t.Fatalf("no %q notify message within %v; output:\n%s", want, within, s.out.String())
		}
	}
}

// cli runs an openim-supervisor command in-process against this supervisor.
func (s *sup) cli(args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	args = append([]string{"--config", s.cfgPath}, args...)
	code := Execute(buildinfo.Info{Version: "test"}, args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func (s *sup) mustCLI(args ...string) string {
	s.t.Helper()
	out, errOut, code := s.cli(args...)
	if code != 0 {
		s.t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s\nsupervisor:\n%s", args, code, out, errOut, s.out.String())
	}
	return out
}

func (s *sup) status() *control.StatusReply {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := control.NewClient(s.sock).Status(ctx)
	if err != nil {
		s.t.Fatalf("status: %v\nsupervisor:\n%s", err, s.out.String())
	}
	return st
}

func find(st *control.StatusReply, id string) supervisor.InstanceStatus {
	for _, i := range st.Instances {
		if i.ID() == id {
			return i
		}
	}
	return supervisor.InstanceStatus{}
}

// waitFor re-reads the status until cond holds (test-only polling, bounded).
func (s *sup) waitFor(what string, cond func(*control.StatusReply) bool) *control.StatusReply {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.status()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", " ")
			s.t.Fatalf("timed out waiting for %s; status:\n%s\nsupervisor:\n%s", what, b, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func allRunning(st *control.StatusReply) bool {
	for _, i := range st.Instances {
		if i.State != supervisor.StateRunning {
			return false
		}
	}
	return len(st.Instances) > 0
}

// stop sends sig and returns the supervisor's exit code.
func (s *sup) stop(sig syscall.Signal) int {
	s.t.Helper()
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatalf("supervisor did not exit on %v; output:\n%s", sig, s.out.String())
	}
	return s.cmd.ProcessState.ExitCode()
}

func crash(t *testing.T, port int) {
	t.Helper()
	resp, err := http.Post("http://127.0.0.1:"+strconv.Itoa(port)+"/crash", "text/plain", nil)
	if err != nil {
		t.Fatalf("crash request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real supervisor and children")
	}
	dir := t.TempDir()
	e := &e2e{standin: filepath.Join(dir, "openim-standin")}
	build := exec.Command("go", "build", "-o", e.standin, "github.com/openim-supervisor/openim-supervisor/cmd/openim-standin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in: %v\n%s", err, out)
	}

	t.Run("StatusTableJSONAndSocketMode", func(t *testing.T) {
		t.Parallel()
		s := e.start(t, supOpts{})
		fi, err := os.Lstat(s.sock)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 {
			t.Errorf("control socket mode %v, want 0660 socket", fi.Mode())
		}
		out := s.mustCLI("status")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 7 {
			t.Fatalf("status printed %d lines, want header + 5 rows + summary:\n%s", len(lines), out)
		}
		if f := strings.Fields(lines[0]); strings.Join(f, " ") != "NAME INSTANCE PID STATE UPTIME RESTARTS LAST-EXIT" {
			t.Errorf("header = %q", lines[0])
		}
		st := s.status()
		for i, inst := range st.Instances {
			f := strings.Fields(lines[i+1])
			if f[0] != inst.Name || f[1] != strconv.Itoa(inst.Index) || f[2] != strconv.Itoa(inst.PID) || f[3] != "running" || f[5] != "0" || f[6] != "-" {
				t.Errorf("row %d = %q, want %s %d pid %d running", i, lines[i+1], inst.Name, inst.Index, inst.PID)
			}
			if !alive(inst.PID) {
				t.Errorf("%s: pid %d not alive", inst.ID(), inst.PID)
			}
		}
		if lines[6] != "5/5 running, 0 failed, 0 restarts" {
			t.Errorf("summary = %q", lines[6])
		}

		var js control.StatusReply
		if err := json.Unmarshal([]byte(s.mustCLI("status", "--json")), &js); err != nil {
			t.Fatal(err)
		}
		if len(js.Instances) != 5 || js.Supervisor.PID != s.cmd.Process.Pid || !js.Supervisor.Ready || js.Supervisor.Config != s.cfgPath {
			t.Errorf("status --json = %+v", js)
		}
		if js.Instances[2].Name != "openim-push" || js.Instances[2].State != supervisor.StateRunning {
			t.Errorf("json instance 2 = %+v", js.Instances[2])
		}

		// A second supervisor on the same config refuses to start.
		second := exec.Command(os.Args[0], "-test.run=^TestHelperSupervisor$", "--", "run", "--config", s.cfgPath)
		second.Env = append(os.Environ(), helperEnv+"=1", "NOTIFY_SOCKET=")
		out2, err := second.CombinedOutput()
		if err == nil || !strings.Contains(string(out2), "already running") {
			t.Errorf("second supervisor: err=%v output:\n%s", err, out2)
		}
		s.mustCLI("status")

		if code := s.stop(syscall.SIGTERM); code != 0 {
			t.Errorf("exit code after SIGTERM = %d, want 0; output:\n%s", code, s.out.String())
		}
		for _, inst := range st.Instances {
			if alive(inst.PID) {
				t.Errorf("%s pid %d still alive after the supervisor stopped", inst.ID(), inst.PID)
			}
		}
		if _, err := os.Lstat(s.sock); err == nil {
			t.Error("control socket left behind after a clean stop")
		}
		// Now it is not running: one line, exit 4.
		stdout, stderr, code := s.cli("status")
		if code != ExitNotRunning || stdout != "" ||
			!strings.Contains(stderr, "openim-supervisor is not running (no control socket at "+s.sock+"); start it with:") ||
			strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("status when stopped: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		for _, args := range [][]string{{"stop", "all"}, {"logs", "openim-api"}, {"reload"}} {
			if _, _, code := s.cli(args...); code != ExitNotRunning {
				t.Errorf("%v when stopped: exit %d, want %d", args, code, ExitNotRunning)
			}
		}
	})

	t.Run("StartStopRestart", func(t *testing.T) {
		t.Parallel()
		s := e.start(t, supOpts{})
		before := s.status()
		api0 := find(before, "openim-api:0")

		out := s.mustCLI("stop", "openim-push:1")
		if !strings.Contains(out, "openim-push  1") || !strings.Contains(out, "stopped") {
			t.Errorf("stop output:\n%s", out)
		}
		st := s.status()
		p1 := find(st, "openim-push:1")
		if p1.State != supervisor.StateStopped || p1.PID != 0 || alive(find(before, "openim-push:1").PID) {
			t.Errorf("after stop: %+v", p1)
		}
		if find(st, "openim-push:0").PID != find(before, "openim-push:0").PID {
			t.Error("stop of one instance touched another")
		}
		// stop does not count as a crash: it stays stopped.
		time.Sleep(500 * time.Millisecond)
		if p := find(s.status(), "openim-push:1"); p.State != supervisor.StateStopped {
			t.Errorf("stopped instance came back: %+v", p)
		}

		s.mustCLI("start", "openim-push:1")
		p1 = find(s.status(), "openim-push:1")
		if p1.State != supervisor.StateRunning || !alive(p1.PID) {
			t.Errorf("after start: %+v", p1)
		}

		s.mustCLI("restart", "openim-api")
		a := find(s.status(), "openim-api:0")
		if a.PID == api0.PID || a.State != supervisor.StateRunning || alive(api0.PID) {
			t.Errorf("restart openim-api: old pid %d, now %+v", api0.PID, a)
		}

		// Unknown targets: exit 8 naming what exists; bad syntax: exit 2.
		_, stderr, code := s.cli("restart", "openim-nope")
		if code != ExitNotFound || !strings.Contains(stderr, "openim-api, openim-push, openim-rpc-user") {
			t.Errorf("unknown process: exit %d, stderr %q", code, stderr)
		}
		_, stderr, code = s.cli("stop", "openim-push:9")
		if code != ExitNotFound || !strings.Contains(stderr, "instances 0-2") {
			t.Errorf("unknown instance: exit %d, stderr %q", code, stderr)
		}
		if _, _, code = s.cli("stop", "openim-push:x"); code != ExitUsage {
			t.Errorf("bad target: exit %d, want %d", code, ExitUsage)
		}

		s.mustCLI("stop", "all")
		for _, i := range s.status().Instances {
			if i.State != supervisor.StateStopped {
				t.Errorf("after stop all: %s is %s", i.ID(), i.State)
			}
		}
		if _, stderr, code := s.cli("status"); code != ExitNotUp || !strings.Contains(stderr, "5 of 5 instance(s) not up yet") {
			t.Errorf("status with stopped (not failed) instances: exit %d, want %d; stderr %q", code, ExitNotUp, stderr)
		}
		s.mustCLI("start", "all")
		if st := s.status(); !allRunning(st) {
			t.Errorf("after start all: %+v", st.Instances)
		}
		if code := s.stop(syscall.SIGTERM); code != 0 {
			t.Errorf("exit code after SIGTERM = %d", code)
		}
	})

	t.Run("RollingRestart", func(t *testing.T) {
		t.Parallel()
		s := e.start(t, supOpts{})
		before := s.status()
		// Issue 9, item 6: per-instance progress, plain lines (not a terminal).
		out, progress, code := s.cli("restart", "--rolling", "openim-push")
		if code != 0 {
			t.Fatalf("restart --rolling: exit %d: %s", code, progress)
		}
		for _, want := range []string{"[1/3] openim-push:0: restarting\n", "[1/3] openim-push:0: ready (",
			"[3/3] openim-push:2: ready ("} {
			if !strings.Contains(progress, want) {
				t.Errorf("progress lacks %q:\n%s", want, progress)
			}
		}
		if strings.Contains(progress, "\x1b") || strings.Contains(progress, "\r") {
			t.Errorf("escape codes in progress written to a pipe: %q", progress)
		}
		if strings.Count(out, "openim-push") != 3 || strings.Contains(out, "openim-api") {
			t.Errorf("restart printed other rows than the target's:\n%s", out)
		}
		after := s.status()
		var prev time.Time
		for i := 0; i < 3; i++ {
			id := "openim-push:" + strconv.Itoa(i)
			b, a := find(before, id), find(after, id)
			if a.PID == b.PID || a.State != supervisor.StateRunning {
				t.Errorf("%s: before pid %d, after %+v", id, b.PID, a)
			}
			// One at a time: each starts only after the previous one was
			// ready (ready.after = 300ms).
			if i > 0 && a.StartedAt.Sub(prev) < 250*time.Millisecond {
				t.Errorf("%s started %v after the previous instance; want >= ready.after", id, a.StartedAt.Sub(prev))
			}
			prev = a.StartedAt
		}
		if find(after, "openim-api:0").PID != find(before, "openim-api:0").PID {
			t.Error("rolling restart of openim-push touched openim-api")
		}

		// Issue 9, item 7: status NAME and globs, pid, signal.
		out = s.mustCLI("status", "openim-p*")
		if strings.Count(out, "openim-push") != 3 || strings.Contains(out, "openim-api") {
			t.Errorf("status 'openim-p*':\n%s", out)
		}
		if got := strings.TrimSpace(s.mustCLI("pid")); got != strconv.Itoa(s.cmd.Process.Pid) {
			t.Errorf("pid = %q, want the supervisor's %d", got, s.cmd.Process.Pid)
		}
		p1 := find(after, "openim-push:1")
		if got := strings.TrimSpace(s.mustCLI("pid", "openim-push:1")); got != strconv.Itoa(p1.PID) {
			t.Errorf("pid openim-push:1 = %q, want %d", got, p1.PID)
		}
		if _, stderr, code := s.cli("restart", "opnim-push"); code != ExitNotFound || !strings.Contains(stderr, "did you mean openim-push?") {
			t.Errorf("restart opnim-push: exit %d, stderr %q", code, stderr)
		}
		s.mustCLI("signal", "KILL", "openim-push:1")
		st := s.waitFor("openim-push:1 restarted after the signal", func(st *control.StatusReply) bool {
			p := find(st, "openim-push:1")
			return p.State == supervisor.StateRunning && p.PID != p1.PID
		})
		if e := find(st, "openim-push:1").LastExit; e == nil || e.Signal != "KILL" {
			t.Errorf("last exit after signal KILL: %+v", e)
		}
		if _, stderr, code := s.cli("signal", "NOPE", "openim-push"); code != ExitUsage || !strings.Contains(stderr, "unknown signal") {
			t.Errorf("signal NOPE: exit %d, stderr %q", code, stderr)
		}
		if _, _, code := s.cli("restart", "openim-rpc-*"); code != 0 {
			t.Errorf("restart 'openim-rpc-*': exit %d", code)
		}
	})

	t.Run("CrashRestartLogsAndMetrics", func(t *testing.T) {
		t.Parallel()
		mport := freePorts(t, 1)[0]
		s := e.start(t, supOpts{metrics: "127.0.0.1:" + strconv.Itoa(mport), env: []string{"WATCHDOG_USEC=400000"}})
		// The watchdog is pinged (after a round trip through the supervision loop).
		s.expectNotify("WATCHDOG=1", 5*time.Second)
		before := find(s.status(), "openim-push:2")

		// Follow openim-push:2 while it crashes and comes back.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		followed := make(chan string, 100)
		go control.NewClient(s.sock).Logs(ctx, control.Request{Target: "openim-push:2", Lines: 1, Follow: true},
			func(l control.LogLine) error { followed <- l.Text; return nil })
		// The server subscribes before it sends the tail: once the last
		// line arrived, nothing new can be missed.
		select {
		case l := <-followed:
			if !strings.Contains(l, "index 2 started") {
				t.Fatalf("first followed line = %q", l)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("logs -f -n 1 sent nothing")
		}

		crash(t, s.ports["openim-push"][2])
		st := s.waitFor("openim-push:2 restarted", func(st *control.StatusReply) bool {
			p := find(st, "openim-push:2")
			return p.Restarts == 1 && p.State == supervisor.StateRunning && p.PID != before.PID
		})
		p := find(st, "openim-push:2")
		if p.LastExit == nil || p.LastExit.Code != 1 {
			t.Errorf("last exit = %+v, want code 1", p.LastExit)
		}
		out := s.mustCLI("status")
		if !strings.Contains(out, "exit 1") || !strings.Contains(out, "5/5 running, 0 failed, 1 restarts") {
			t.Errorf("status after the crash:\n%s", out)
		}
		s.expectNotify("STATUS=5/5 running, 0 failed, 1 restarts", 10*time.Second)

		wantFollow := []string{"crash requested over HTTP", fmt.Sprintf("index 2 started, pid %d", p.PID)}
		for _, want := range wantFollow {
			deadline := time.After(10 * time.Second)
		wait:
			for {
				select {
				case l := <-followed:
					if strings.Contains(l, want) {
						break wait
					}
				case <-deadline:
					t.Fatalf("logs -f never showed %q", want)
				}
			}
		}

		// logs -n of one instance: no prefix; of a process: prefixed.
		out = s.mustCLI("logs", "openim-api", "-n", "5")
		if !strings.Contains(out, "openim-api (stand-in) index 0 started") || strings.Contains(out, "openim-api:0 |") {
			t.Errorf("logs openim-api:\n%s", out)
		}
		out = s.mustCLI("logs", "openim-push", "-n", "2")
		if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(out, "openim-push:2 | ") {
			t.Errorf("logs openim-push -n 2 (%d lines):\n%s", n, out)
		}
		out = s.mustCLI("logs", "openim-push:2", "-n", "100")
		if strings.Count(out, "index 2 started") != 2 {
			t.Errorf("logs of the crashed instance should show both runs:\n%s", out)
		}

		// Metrics: scraped from the live status.
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(mport) + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`openim_supervisor_up{index="2",process="openim-push"} 1`,
			`openim_supervisor_restarts_total{index="2",process="openim-push"} 1`,
			`openim_supervisor_last_exit_code{index="2",process="openim-push"} 1`,
			`openim_supervisor_restarts_total{index="0",process="openim-api"} 0`,
			`openim_supervisor_failed{index="0",process="openim-rpc-user"} 0`,
			`openim_supervisor_start_time_seconds{index="0",process="openim-api"}`,
		} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("metrics lack %q", want)
			}
		}

		cancel()
		if code := s.stop(syscall.SIGTERM); code != 0 {
			t.Errorf("exit code after SIGTERM = %d", code)
		}
		s.expectNotify("STOPPING=1", 5*time.Second)
	})

	t.Run("ForcedStopOnSecondInterrupt", func(t *testing.T) {
		t.Parallel()
		procs := []procSpec{{name: "openim-crontask", instances: 1,
			extra: "    env: {STANDIN_IGNORE_TERM: \"1\"}\n    stopTimeout: 1m\n"}}
		s := e.start(t, supOpts{procs: procs})
		child := find(s.status(), "openim-crontask:0").PID
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		s.expectNotify("STOPPING=1", 10*time.Second)
		select {
		case <-s.done:
			t.Fatal("supervisor exited although its child ignores TERM and the stop timeout is 1m")
		case <-time.After(500 * time.Millisecond):
		}
		start := time.Now()
		if code := s.stop(syscall.SIGINT); code != ExitError {
			t.Errorf("exit code after a second SIGINT = %d, want %d", code, ExitError)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("forced stop took %v", el)
		}
		// The child dies with the supervisor (PR_SET_PDEATHSIG on Linux).
		deadline := time.Now().Add(10 * time.Second)
		for alive(child) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(child) {
			_ = syscall.Kill(child, syscall.SIGKILL)
			t.Errorf("child %d survived the forced stop", child)
		}
	})

	t.Run("Reload", func(t *testing.T) {
		t.Parallel()
		procs := defaultProcs(t)
		s := e.start(t, supOpts{procs: procs})
		before := s.status()

		// Invalid: rejected with file, line and key; nothing changes.
		good, _ := os.ReadFile(s.cfgPath)
		bad := strings.Replace(string(good), "  stopTimeout: 5s\n", "  stopTimeout: 5s\n  stopTimeuot: 5s\n", 1)
		if err := os.WriteFile(s.cfgPath, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := s.cli("reload")
		if code != ExitConfig || !strings.Contains(stderr, s.cfgPath+":") || !strings.Contains(stderr, "stopTimeuot") ||
			!strings.Contains(stderr, "nothing changed") {
			t.Errorf("invalid reload: exit %d, stderr:\n%s", code, stderr)
		}
		// SIGHUP with the invalid file: logged, ignored, supervisor keeps running.
		_ = s.cmd.Process.Signal(syscall.SIGHUP)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(s.out.String(), "rejected") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(s.out.String(), "rejected") {
			t.Errorf("SIGHUP with an invalid config was not logged as rejected:\n%s", s.out.String())
		}
		for _, i := range s.status().Instances {
			if b := find(before, i.ID()); b.PID != i.PID || i.State != supervisor.StateRunning {
				t.Errorf("invalid reload changed %s: %+v -> %+v", i.ID(), b, i)
			}
		}

		// Valid: remove openim-rpc-user, add openim-msgtransfer (2), change
		// openim-push (env), keep openim-api.
		newProcs := []procSpec{procs[0],
			{name: "openim-push", instances: 3, ports: procs[2].ports, extra: "    env: {PUSH_MODE: fast}\n"},
			{name: "openim-msgtransfer", instances: 2}}
		e.writeConfig(t, s.dir, newProcs, "")
		out := s.mustCLI("reload")
		for _, want := range []string{"added:    openim-msgtransfer:0 openim-msgtransfer:1", "removed:  openim-rpc-user:0",
			"changed:  openim-push:0 openim-push:1 openim-push:2", "reloaded: 2 added, 1 removed, 3 changed, 1 unchanged"} {
			if !strings.Contains(out, want) {
				t.Errorf("reload output lacks %q:\n%s", want, out)
			}
		}
		st := s.waitFor("reloaded set running", allRunning)
		if len(st.Instances) != 6 {
			t.Errorf("after reload %d instances, want 6", len(st.Instances))
		}
		if a := find(st, "openim-api:0"); a.PID != find(before, "openim-api:0").PID {
			t.Errorf("unchanged openim-api was restarted: %d -> %d", find(before, "openim-api:0").PID, a.PID)
		}
		for i := 0; i < 3; i++ {
			id := "openim-push:" + strconv.Itoa(i)
			if find(st, id).PID == find(before, id).PID {
				t.Errorf("changed %s kept its pid", id)
			}
		}
		if rpc := find(before, "openim-rpc-user:0"); alive(rpc.PID) {
			t.Errorf("removed openim-rpc-user (pid %d) still alive", rpc.PID)
		}

		// SIGHUP applies a valid change too: openim-msgtransfer back to 1 instance.
		newProcs[2].instances = 1
		e.writeConfig(t, s.dir, newProcs, "")
		_ = s.cmd.Process.Signal(syscall.SIGHUP)
		s.waitFor("SIGHUP reload", func(st *control.StatusReply) bool { return len(st.Instances) == 5 && allRunning(st) })
		if code := s.stop(syscall.SIGINT); code != 0 {
			t.Errorf("exit code after SIGINT = %d", code)
		}
	})
}

func TestRunInvalidConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("version: 2\nprocesses:\n  - name: x\n    instancez: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Execute(buildinfo.Info{}, []string{"--config", path, "run"}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitConfig || !strings.Contains(stderr.String(), path+":4") || !strings.Contains(stderr.String(), "instancez") {
		t.Errorf("run with an invalid config: exit %d, stderr %q", code, stderr.String())
	}
}

func TestControlCommandsNotRunning(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "none.sock")
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"start", "all"}, {"restart", "--rolling", "x"}, {"logs", "-f", "x"}, {"reload"}} {
		var stdout, stderr bytes.Buffer
		code := Execute(buildinfo.Info{}, append(args, "--socket", sock), strings.NewReader(""), &stdout, &stderr)
		want := "Error: openim-supervisor is not running (no control socket at " + sock + "); start it with: " + startHint + "\n"
		if code != ExitNotRunning || stdout.Len() != 0 || stderr.String() != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
}

func TestPrintStatusColumns(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var b bytes.Buffer
	printStatus(&b, []supervisor.InstanceStatus{
		{Name: "openim-push", Index: 3, State: supervisor.StateBackoff, Restarts: 4, NextStart: now.Add(2 * time.Second),
			LastExit: &supervisor.Exit{Code: 137, Signal: "KILL", Time: now.Add(-3 * time.Second)}},
		{Name: "openim-api", Index: 0, PID: 77, State: supervisor.StateRunning, StartedAt: now.Add(-90 * time.Minute)},
		{Name: "openim-rpc-msg", Index: 0, State: supervisor.StateFailed, Restarts: 10,
			LastExit: &supervisor.Exit{Err: "exec: no such file"}},
	}, now)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := [][]string{
		{"openim-push", "3", "-", "backoff", "-", "4", "signal KILL (137), 3s ago; retry in 2s"},
		{"openim-api", "0", "77", "running", "1h30m", "0", "-"},
		{"openim-rpc-msg", "0", "-", "failed", "-", "10", "start error: exec: no such file"},
	}
	for i, w := range want {
		f := strings.Fields(lines[i+1])
		if strings.Join(f[:6], " ") != strings.Join(w[:6], " ") || strings.Join(f[6:], " ") != w[6] {
			t.Errorf("row %d = %q, want %q", i, f, w)
		}
	}
}

// TestPermissionDenied runs `status` as an unprivileged user against a
// socket it may not use: one line suggesting sudo or the group, exit 1.
func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "run", "supervisor.sock")
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := control.Listen(ctx, sock, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSupervisor$", "--", "status", "--socket", sock)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	if os.Geteuid() == 0 {
		// Run the client as nobody: copy this test binary where nobody may run it.
		exe := filepath.Join(dir, "cli.test")
		data, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe, data, 0o755); err != nil {
			t.Fatal(err)
		}
		for d := dir; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd.Path, cmd.Args[0] = exe, exe
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	} else if err := os.Chmod(sock, 0); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the client as an unprivileged user (is %s traversable by nobody?): %v", os.TempDir(), err)
	}
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	want := "Error: permission denied on the control socket " + sock + ": " + permHint + "\n"
	if code != ExitError || stderr.String() != want {
		t.Errorf("status without permission: %v, exit %d, stdout %q, stderr %q, want %q", err, code, stdout.String(), stderr.String(), want)
	}
}
