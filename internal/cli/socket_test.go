//go:build unix

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// oneBackend is a running process set of one instance, for tests that only
// need something to answer on a socket.
type oneBackend struct{}

func (oneBackend) Status() []supervisor.InstanceStatus {
	return []supervisor.InstanceStatus{{Name: "openim-api", Index: 0, PID: 4242, State: supervisor.StateRunning}}
}
func (oneBackend) Start(context.Context, supervisor.Target) error          { return nil }
func (oneBackend) Stop(context.Context, supervisor.Target) error           { return nil }
func (oneBackend) Restart(context.Context, supervisor.Target, bool) error  { return nil }
func (oneBackend) Signal(context.Context, supervisor.Target, string) error { return nil }
func (oneBackend) Ping(context.Context) error                              { return nil }

// serveAt runs a control server on sock until the test ends.
func serveAt(t *testing.T, sock string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := control.Listen(ctx, sock, "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = (&control.Server{Backend: oneBackend{}}).Serve(ctx, ln)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// Issue 9, item 1: a broken config never sends control commands to the OS
// default socket in silence.
func TestControlSocketWithBrokenConfig(t *testing.T) {
	t.Setenv(EnvSocket, "")
	dir := t.TempDir()
	sock := filepath.Join(dir, "run", "supervisor.sock")
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	serveAt(t, sock)
	cfg := filepath.Join(dir, "config.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Not YAML: the command says why it cannot find the socket, exit 3.
	write("version: 2\npaths: [runtimeDir: x\n")
	_, errOut, code := runCLI(t, "--config", cfg, "status")
	if code != ExitConfig || !strings.Contains(errOut, cfg+":") || !strings.Contains(errOut, "--socket") ||
		strings.Contains(errOut, "not running") {
		t.Errorf("unparseable config: exit %d, stderr %q; want exit 3 naming the config error and --socket", code, errOut)
	}
	// ... and --socket works with it.
	if _, errOut, code := runCLI(t, "--config", cfg, "status", "--socket", sock); code != ExitOK {
		t.Errorf("status --socket with a broken config: exit %d, stderr %q", code, errOut)
	}
	// A missing config: named, exit 3, not the default socket.
	_, errOut, code = runCLI(t, "--config", filepath.Join(dir, "missing.yaml"), "status")
	if code != ExitConfig || !strings.Contains(errOut, "missing.yaml") || !strings.Contains(errOut, "--socket") {
		t.Errorf("missing config: exit %d, stderr %q", code, errOut)
	}

	// Valid YAML with an invalid key (edited, not reloaded): its paths
	// still lead to the running supervisor, with a warning naming the error.
	write("version: 2\npaths:\n  runtimeDir: run\nprocesses:\n  - name: openim-api\n    bogusKey: 1\n")
	out, errOut, code := runCLI(t, "--config", cfg, "status")
	if code != ExitOK || !strings.Contains(out, "openim-api") ||
		!strings.Contains(errOut, "warning: "+cfg+" does not load ("+cfg+":6: processes[0].bogusKey") || !strings.Contains(errOut, sock) {
		t.Errorf("invalid config: exit %d, stdout %q, stderr %q; want the status and a warning", code, out, errOut)
	}
}
