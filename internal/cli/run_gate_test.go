package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/upgrade"
)

// `run` refuses to start processes over data newer than the binary (the
// version gate that pacman and apk upgrades rely on) and starts nothing.
func TestRunVersionGateRefusesDowngrade(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if _, errOut, code := execCLI(nil, "init", "--config", cfgPath, "--root", dir); code != ExitOK {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	stubOpenIM(t, dir)
	st := &upgrade.State{DataVersion: "3.9.0"}
	if err := st.Save(filepath.Join(dir, "state")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		errOut string
		code   int
	}
	done := make(chan result, 1)
	go func() {
		_, errOut, code := execCLI(nil, "run", "--config", cfgPath)
		done <- result{errOut, code}
	}()
	var errOut string
	var code int
	select {
	case r := <-done:
		errOut, code = r.errOut, r.code
	case <-time.After(20 * time.Second):
		t.Fatal("run over newer data did not refuse within 20 s: it went on to start the processes")
	}
	if code != ExitRefused || !strings.Contains(errOut, "version gate") || !strings.Contains(errOut, "3.9.0") {
		t.Fatalf("run over newer data: exit %d, stderr:\n%s", code, errOut)
	}
	// Nothing was started: no control socket, no pre-start tool ran.
	if _, err := os.Stat(filepath.Join(dir, "run", "supervisor.sock")); !os.IsNotExist(err) {
		t.Errorf("control socket exists after a refused start: %v", err)
	}
}
