//go:build linux

package supervisor

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/openimtest"
)

// The real OpenIM 3.8.3, 26 instances, under `openim-supervisor run` with
// the config `init` writes (example.yaml: its readiness checks, barrier,
// defaults) pointed at a test deployment. READY=1 comes when OpenIM's API
// serves real requests through every RPC service, the instances of a
// program start together, and OpenIM's own log records reach the
// supervisor's logs one record a line, without colour codes. Needs the
// environment of scripts/test-services.sh (skipped without it, failed with
// OPENIM_TEST_STRICT=1).
func TestRealOpenIMShippedConfig(t *testing.T) {
	env := openimtest.Require(t)
	bin := openimtest.BuildSupervisor(t)
	d := openimtest.New(t, env, openimtest.Options{})
	cfgPath, err := d.WriteShippedConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	notify := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ready := make(chan time.Time, 1)
	var statuses []string
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msg := string(buf[:n])
			for _, l := range strings.Split(msg, "\n") {
				if s, ok := strings.CutPrefix(l, "STATUS="); ok {
					statuses = append(statuses, s)
				}
			}
			if strings.Contains(msg, "READY=1") {
				ready <- time.Now()
			}
		}
	}()

	out, err := os.Create(filepath.Join(d.Dir, "supervisor.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "--config", cfgPath, "run", "--debug")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(cleanEnv(), "NOTIFY_SOCKET="+notify)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(90 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Errorf("the supervisor did not stop within 90 s")
		}
		var left []openimtest.Proc
		for range 50 {
			if left, _ = d.Procs(); len(left) == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		for _, p := range left {
			t.Errorf("left after the stop: pid %d %v", p.PID, p.Args)
		}
	})

	// Usable, judged from OpenIM's API alone (every RPC service answers).
	usable := make(chan time.Time, 1)
	go func() {
		if d.WaitUsable(ctx) == nil {
			usable <- time.Now()
		}
	}()
	var tReady, tUsable time.Time
	for tReady.IsZero() || tUsable.IsZero() {
		select {
		case tReady = <-ready:
			// READY=1 means usable now: the API answers through every RPC
			// service without waiting.
			cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
			err := d.WaitUsable(cctx)
			ccancel()
			if err != nil {
				t.Errorf("READY=1 sent, but OpenIM's API does not serve: %v", err)
			}
			ready = nil
		case tUsable = <-usable:
			usable = nil
		case err := <-exited:
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("the supervisor exited: %v\n%s", err, b)
		case <-ctx.Done():
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("not ready and usable in time (ready %v, usable %v)\n%s", tReady, tUsable, b)
		}
	}
	t.Logf("start -> usable (the API answers through every RPC service): %.2f s; start -> READY=1: %.2f s",
		tUsable.Sub(t0).Seconds(), tReady.Sub(t0).Seconds())
	t.Logf("STATUS messages: %q", statuses)
	if b, err := os.ReadFile(out.Name()); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "pre-start tool done") || strings.Contains(l, "msg=started") ||
				strings.Contains(l, "supervisor started") || strings.Contains(l, "msg=ready") {
				t.Logf("supervisor: %s", l)
			}
		}
	}
	// READY=1 follows the last start step; the shipped config starts push,
	// msggateway, msgtransfer and crontask after the API is usable (about
	// 1-1.5 s later on an idle 2-core machine, 2.7 s seen under CI load).
	if tReady.Before(tUsable) {
		t.Errorf("READY=1 came %v before OpenIM was usable", tUsable.Sub(tReady))
	}
	if tReady.Sub(tUsable) > 6*time.Second {
		t.Errorf("READY=1 came %v after OpenIM was usable", tReady.Sub(tUsable))
	}

	// The instances of one program started together (from /proc).
	ps, err := d.Procs()
	if err != nil {
		t.Fatal(err)
	}
	first, last := map[string]time.Time{}, map[string]time.Time{}
	for _, p := range ps {
		st := bootTime(t).Add(time.Duration(p.Start) * time.Second / 100)
		if f, ok := first[p.Name]; !ok || st.Before(f) {
			first[p.Name] = st
		}
		if st.After(last[p.Name]) {
			last[p.Name] = st
		}
	}
	for _, n := range []string{"openim-push", "openim-msgtransfer"} {
		if spread := last[n].Sub(first[n]); spread > time.Second {
			t.Errorf("the 8 instances of %s started over %v, want together", n, spread)
		}
	}

	// OpenIM's records, one a line, no colour codes, the version tag whole.
	b, err := os.ReadFile(filepath.Join(d.Dir, "log", "openim-rpc-user.0.log"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("\x1b[")) {
		t.Errorf("colour codes in the log file")
	}
	var rec string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "RPC server is initializing") {
			rec = l
		}
		// "<time> <stream> <text>": a text starting with "]" is a record's tail.
		if parts := strings.SplitN(l, " ", 3); len(parts) == 3 && strings.HasPrefix(parts[2], "]") {
			t.Errorf("a record's tail on a line of its own: %q", l)
		}
	}
	if !strings.Contains(rec, "[v3.8.3]") || !strings.Contains(rec, "openim-rpc-user") {
		t.Errorf("OpenIM's start record not whole on one line in %s: %q", "openim-rpc-user.0.log", rec)
	}
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// bootTime is when the machine booted (for /proc start times).
func bootTime(t *testing.T) time.Time {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			var s int64
			fmt.Sscan(v, &s)
			return time.Unix(s, 0)
		}
	}
	t.Fatal("no btime in /proc/stat")
	return time.Time{}
}
