package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
)

func TestServiceInstallStatusUninstallInUnitDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Execute(buildinfo.Info{}, append([]string{"--config", cfg}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("service", "status", "--unit-dir", dir); code != ExitNotRunning || !strings.Contains(out, "not-installed") {
		t.Fatalf("status before install: code %d, output %q", code, out)
	}
	code, out := run("service", "install", "--skip-checks", "--unit-dir", dir, "--executable", "/opt/openim/openim-supervisor")
	if code != ExitOK || !strings.Contains(out, "installed openim-server") {
		t.Fatalf("install: code %d, output %q", code, out)
	}
	unit, err := os.ReadFile(filepath.Join(dir, "openim-server.service"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "ExecStart=/opt/openim/openim-supervisor run --config " + cfg + "\n"; !strings.Contains(string(unit), want) {
		t.Fatalf("unit lacks %q:\n%s", want, unit)
	}
	if code, out := run("service", "install", "--skip-checks", "--unit-dir", dir, "--executable", "/opt/openim/openim-supervisor"); code != ExitOK || !strings.Contains(out, "unchanged") {
		t.Fatalf("second install: code %d, output %q", code, out)
	}
	if code, out := run("service", "uninstall", "--unit-dir", dir); code != ExitOK {
		t.Fatalf("uninstall: code %d, output %q", code, out)
	}
	if code, out := run("service", "bogus"); code == ExitOK {
		t.Fatalf("unknown subcommand: code %d, output %q", code, out)
	}
}
