package service

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/packaging"
)

func TestInstallRendersUnitIntoUnitDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unitDir := filepath.Join(dir, "units")
	exe := filepath.Join(dir, "bin", "openim-supervisor")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	// A real executable, so systemd-analyze verify finds ExecStart's binary.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, exe); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "etc", "config.yaml")

	m, err := New(Options{Executable: exe, ConfigPath: cfg, UnitDir: unitDir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := m.Status(ctx)
	if err != nil || st.State != StateNotInstalled {
		t.Fatalf("status before install = %+v, %v; want not-installed", st, err)
	}

	res, err := m.Install(ctx)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	unitPath := filepath.Join(unitDir, "openim-server.service")
	if res.Path != unitPath || !res.Changed {
		t.Fatalf("install result = %+v, want changed at %s", res, unitPath)
	}
	got, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	wantExec := "ExecStart=" + exe + " run --config " + cfg + "\n"
	if !strings.Contains(string(got), wantExec) {
		t.Fatalf("unit lacks %q:\n%s", wantExec, got)
	}
	// Everything but ExecStart is the shipped unit.
	if a, b := dropExecStart(string(got)), dropExecStart(packaging.SystemdUnit); a != b {
		t.Fatalf("rendered unit differs from packaging/systemd beyond ExecStart:\n%s\n---\n%s", a, b)
	}

	// Re-running is a no-op; a changed file is rewritten.
	if res, err := m.Install(ctx); err != nil || res.Changed {
		t.Fatalf("second install = %+v, %v; want unchanged", res, err)
	}
	if err := os.WriteFile(unitPath, []byte("[Unit]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := m.Install(ctx); err != nil || !res.Changed {
		t.Fatalf("install over an edited unit = %+v, %v; want changed", res, err)
	}
	if b, _ := os.ReadFile(unitPath); string(b) != string(got) {
		t.Fatalf("edited unit not restored:\n%s", b)
	}
	// Outside /etc/systemd/system systemd is not asked.
	if err := m.Start(ctx); err == nil {
		t.Fatal("start of a unit outside systemd's dir succeeded")
	}

	if path, err := exec.LookPath("systemd-analyze"); err == nil {
		out, err := exec.CommandContext(ctx, path, "verify", "--man=no", unitPath).CombinedOutput()
		var problems []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "openim-server.service") {
				problems = append(problems, l)
			}
		}
		if err != nil || len(problems) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
		}
	} else if os.Getenv("OPENIM_TEST_STRICT") == "1" {
		t.Errorf("systemd-analyze not found: %v", err)
	} else {
		t.Logf("systemd-analyze not found, unit not verified")
	}

	if err := m.Uninstall(ctx); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	if _, err := os.Stat(unitPath); !os.IsNotExist(err) {
		t.Fatalf("unit still there after uninstall: %v", err)
	}
	if err := m.Uninstall(ctx); err == nil {
		t.Fatal("second uninstall succeeded; want not installed")
	}
}

func dropExecStart(unit string) string {
	var out []string
	for _, l := range strings.Split(unit, "\n") {
		if !strings.HasPrefix(l, "ExecStart=") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
