//go:build unix

package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/testenv"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// fakeBackend is a tiny in-memory process set for protocol tests; the
// end-to-end tests in internal/cli use the real Manager with real children.
type fakeBackend struct {
	mu    sync.Mutex
	insts []supervisor.InstanceStatus
	calls []string
}

func newFake() *fakeBackend {
	f := &fakeBackend{}
	for _, p := range []struct {
		name string
		n    int
	}{{"openim-api", 1}, {"openim-push", 3}} {
		for i := 0; i < p.n; i++ {
			f.insts = append(f.insts, supervisor.InstanceStatus{Name: p.name, Index: i, PID: 100 + len(f.insts), State: supervisor.StateRunning})
		}
	}
	return f
}

func (f *fakeBackend) Status() []supervisor.InstanceStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]supervisor.InstanceStatus(nil), f.insts...)
}

func (f *fakeBackend) apply(op string, t supervisor.Target, st supervisor.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+t.String())
	n := 0
	for i := range f.insts {
		s := &f.insts[i]
		if t.All || (s.Name == t.Name && (t.Index < 0 || t.Index == s.Index)) {
			s.State = st
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", t, supervisor.ErrNoSuchTarget)
	}
	return nil
}

func (f *fakeBackend) Start(_ context.Context, t supervisor.Target) error {
	return f.apply("start", t, supervisor.StateRunning)
}
func (f *fakeBackend) Stop(_ context.Context, t supervisor.Target) error {
	return f.apply("stop", t, supervisor.StateStopped)
}
func (f *fakeBackend) Restart(_ context.Context, t supervisor.Target, rolling bool) error {
	return f.apply(fmt.Sprintf("restart(rolling=%v)", rolling), t, supervisor.StateRunning)
}
func (f *fakeBackend) Signal(_ context.Context, t supervisor.Target, sig string) error {
	return f.apply("signal "+sig, t, supervisor.StateRunning)
}
func (f *fakeBackend) Ping(context.Context) error { return nil }

func serve(t *testing.T, srv *Server) (*Client, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "supervisor.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen(ctx, path, "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return NewClient(path), path
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestListenModeStaleAndAlreadyRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisor.sock")
	ctx := tctx(t)

	// A stale socket (its owner died without removing it) is replaced.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}

	ln, err := Listen(ctx, path, "")
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	go (&Server{Backend: newFake()}).Serve(ctx, ln)

	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode = %v, want socket with 0660", fi.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("runtime dir has %d entries, want only the socket: %v", len(entries), entries)
	}
	if err := NewClient(path).Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}

	// A second supervisor must refuse and leave the first one's socket alone.
	if _, err := Listen(ctx, path, ""); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Listen: err = %v, want ErrAlreadyRunning", err)
	}
	if err := NewClient(path).Ping(ctx); err != nil {
		t.Fatalf("ping after refused second Listen: %v", err)
	}

	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket still there after Close: %v", err)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "supervisor.sock")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Listen(tctx(t), path, "")
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("err = %v, want 'not a socket'", err)
	}
}

func TestListenGroup(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		skipOrFail(t, "chown to another group needs root")
	}
	var g *user.Group
	for _, name := range []string{"daemon", "nogroup", "bin", "adm"} {
		if gg, err := user.LookupGroup(name); err == nil {
			g = gg
			break
		}
	}
	if g == nil {
		skipOrFail(t, "no well-known group (daemon, nogroup, bin, adm) to test with")
	}
	path := filepath.Join(t.TempDir(), "supervisor.sock")
	ln, err := Listen(tctx(t), path, g.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	if got := int(fi.Sys().(*syscall.Stat_t).Gid); got != gid {
		t.Errorf("socket gid = %d, want %d (%s)", got, gid, g.Name)
	}
	if _, err := Listen(tctx(t), filepath.Join(t.TempDir(), "s.sock"), "no-such-group-xyz"); err == nil {
		t.Error("Listen with an unknown group succeeded")
	}
}

func TestClientNotRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := tctx(t)
	// No socket at all.
	err := NewClient(filepath.Join(dir, "missing.sock")).Ping(ctx)
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no socket: err = %v, want ErrNotRunning", err)
	}
	// A stale socket nobody listens on.
	path := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if err := NewClient(path).Ping(ctx); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("stale socket: err = %v, want ErrNotRunning", err)
	}
}

func TestClientPermissionDenied(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root bypasses socket permissions")
	}
	path := filepath.Join(t.TempDir(), "supervisor.sock")
	ln, err := Listen(tctx(t), path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	if err := NewClient(path).Ping(tctx(t)); !errors.Is(err, ErrPermission) {
		t.Fatalf("err = %v, want ErrPermission", err)
	}
}

func TestStatusAndTargets(t *testing.T) {
	t.Parallel()
	fb := newFake()
	started := time.Now().Add(-time.Minute).Truncate(time.Second)
	c, _ := serve(t, &Server{Backend: fb, Info: func() SupervisorInfo {
		return SupervisorInfo{PID: 42, StartedAt: started, Ready: true}
	}})
	ctx := tctx(t)

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Instances) != 4 || st.Supervisor.PID != 42 || !st.Supervisor.Ready || !st.Supervisor.StartedAt.Equal(started) {
		t.Fatalf("status = %+v", st)
	}

	if _, err := c.Do(ctx, Request{Op: OpStop, Target: "openim-push:1"}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(ctx, Request{Op: OpRestart, Target: "openim-push", Rolling: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status == nil || len(resp.Status.Instances) != 4 {
		t.Errorf("restart answer has no status: %+v", resp)
	}
	// Rolling: the server restarts one instance after the other.
	want := []string{"stop openim-push:1", "restart(rolling=false) openim-push:0",
		"restart(rolling=false) openim-push:1", "restart(rolling=false) openim-push:2"}
	if fmt.Sprint(fb.calls) != fmt.Sprint(want) {
		t.Errorf("calls = %v, want %v", fb.calls, want)
	}

	for _, tc := range []struct {
		target, code, msg string
	}{
		{"openim-nope", CodeNotFound, `no process named "openim-nope" (known: openim-api, openim-push)`},
		{"openim-push:7", CodeNotFound, "openim-push has no instance 7 (instances 0-2)"},
		{"openim-push:x", CodeBadRequest, "instance index must be a number"},
		{"", CodeBadRequest, "missing target"},
	} {
		_, err := c.Do(ctx, Request{Op: OpStart, Target: tc.target})
		var re *RemoteError
		if !errors.As(err, &re) || re.Code != tc.code || !strings.Contains(re.Msg, tc.msg) {
			t.Errorf("start %q: err = %v, want code %s containing %q", tc.target, err, tc.code, tc.msg)
		}
	}
	if len(fb.calls) != 4 {
		t.Errorf("rejected targets reached the backend: %v", fb.calls)
	}

	_, err = c.Do(ctx, Request{Op: "explode"})
	if re := (*RemoteError)(nil); !errors.As(err, &re) || re.Code != CodeBadRequest {
		t.Errorf("unknown op: err = %v", err)
	}
	if _, err := c.Reload(ctx); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("reload without a reload func: err = %v", err)
	}
}

func TestReloadErrors(t *testing.T) {
	t.Parallel()
	calls := 0
	c, _ := serve(t, &Server{Backend: newFake(), Reload: func(context.Context) (supervisor.ReloadResult, error) {
		calls++
		if calls == 1 {
			return supervisor.ReloadResult{Added: []string{"x:0"}, Unchanged: 3}, nil
		}
		return supervisor.ReloadResult{}, fmt.Errorf("load c.yaml: %w: c.yaml:3: processes: unknown key", ErrInvalidConfig)
	}})
	ctx := tctx(t)
	res, err := c.Reload(ctx)
	if err != nil || len(res.Added) != 1 || res.Unchanged != 3 {
		t.Fatalf("reload = %+v, %v", res, err)
	}
	_, err = c.Reload(ctx)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeInvalidConfig || !strings.Contains(re.Msg, "c.yaml:3") {
		t.Fatalf("invalid reload: err = %v", err)
	}
}

func TestReloadAllAtOnceReachesTheBackend(t *testing.T) {
	t.Parallel()
	var got []bool
	c, _ := serve(t, &Server{Backend: newFake(), ReloadWith: func(_ context.Context, o supervisor.ReloadOptions) (supervisor.ReloadResult, error) {
		got = append(got, o.AllAtOnce)
		return supervisor.ReloadResult{Rolling: !o.AllAtOnce}, nil
	}})
	ctx := tctx(t)
	if res, err := c.Reload(ctx); err != nil || !res.Rolling {
		t.Fatalf("reload = %+v, %v", res, err)
	}
	if res, err := c.ReloadWith(ctx, true); err != nil || res.Rolling {
		t.Fatalf("reload --all-at-once = %+v, %v", res, err)
	}
	if len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("backend saw allAtOnce %v", got)
	}
}

func line(name string, idx int, text string) logs.Line {
	return logs.Line{Process: name, Index: idx, Time: time.Now(), Text: text}
}

func TestLogsTailAndFollow(t *testing.T) {
	t.Parallel()
	ring := logs.NewRing(100)
	for i := 0; i < 10; i++ {
		ring.Write(line("openim-push", i%2, fmt.Sprintf("line %d", i)))
	}
	c, _ := serve(t, &Server{Backend: newFake(), Logs: ring})
	ctx := tctx(t)

	var got []string
	err := c.Logs(ctx, Request{Target: "openim-push", Lines: 3}, func(l LogLine) error {
		got = append(got, l.Instance+" "+l.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"openim-push:1 line 7", "openim-push:0 line 8", "openim-push:1 line 9"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tail -n 3 = %q, want %q", got, want)
	}
	got = nil
	_ = c.Logs(ctx, Request{Target: "openim-push:0", Lines: 2}, func(l LogLine) error {
		got = append(got, l.Text)
		return nil
	})
	if fmt.Sprint(got) != "[line 6 line 8]" {
		t.Errorf("tail of one instance = %q", got)
	}

	// Follow: the 2 newest lines, then new lines as they are written, until
	// the client goes away.
	fctx, cancel := context.WithCancel(ctx)
	lines := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(fctx, Request{Target: "openim-push:1", Lines: 2, Follow: true}, func(l LogLine) error {
			lines <- l.Text
			return nil
		})
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-lines:
			if got != want {
				t.Fatalf("followed line = %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no line %q", want)
		}
	}
	expect("line 7")
	expect("line 9")
	// New lines arrive once the server subscribed; write until one shows up.
	deadline := time.After(5 * time.Second)
	for sent := false; !sent; {
		ring.Write(line("openim-push", 1, "new"))
		select {
		case got := <-lines:
			if got != "new" {
				t.Fatalf("followed line = %q, want new", got)
			}
			sent = true
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("followed line never arrived")
		}
	}
	ring.Write(line("openim-push", 0, "other instance"))
	ring.Write(line("openim-push", 1, "after"))
	for {
		got := <-lines
		if got == "after" {
			break
		}
		if got != "new" {
			t.Fatalf("unexpected followed line %q", got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("follow ended with %v", err)
	}
}

func TestLogsUnknownTarget(t *testing.T) {
	t.Parallel()
	c, _ := serve(t, &Server{Backend: newFake(), Logs: logs.NewRing(10)})
	err := c.Logs(tctx(t), Request{Target: "nope", Lines: 5}, func(LogLine) error { return nil })
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeNotFound {
		t.Fatalf("err = %v, want not_found", err)
	}
}

func TestServerStopsWithOpenFollow(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "supervisor.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen(ctx, path, "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- (&Server{Backend: newFake(), Logs: logs.NewRing(10)}).Serve(ctx, ln) }()
	followErr := make(chan error, 1)
	go func() {
		followErr <- NewClient(path).Logs(context.Background(), Request{Target: "all", Follow: true},
			func(LogLine) error { return nil })
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return with a follower connected")
	}
	select {
	case err := <-followErr:
		if err == nil {
			t.Error("follow ended without error when the server stopped")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client follow did not end when the server stopped")
	}
}

// skipOrFail skips for a missing prerequisite, or fails under
// OPENIM_TEST_STRICT=1 (CI), where every prerequisite must be there.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	testenv.Missing(t, why)
}
