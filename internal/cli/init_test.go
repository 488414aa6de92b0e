package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 9, item 2: --root DIR puts the config under DIR as well.
func TestInitRootPutsConfigUnderRoot(t *testing.T) {
	t.Setenv(EnvConfig, "")
	root := filepath.Join(t.TempDir(), "openim")
	out, errOut, code := runCLI(t, "init", "--root", root)
	if code != ExitOK {
		t.Fatalf("init --root: exit %d: %s", code, errOut)
	}
	cfg := filepath.Join(root, "config.yaml")
	if !strings.Contains(out, "wrote "+cfg) {
		t.Errorf("init --root output:\n%s", out)
	}
	for _, p := range []string{cfg, filepath.Join(root, "openim.env"), filepath.Join(root, "bin"), filepath.Join(root, "state")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%v", err)
		}
	}
	if _, errOut, code := runCLI(t, "--config", cfg, "config", "check"); code != ExitConfig || strings.Contains(errOut, "mode") {
		// The binaries are missing (exit 3), but no file mode is refused.
		t.Errorf("config check of the new config: exit %d: %s", code, errOut)
	}
}

// Issue 9, item 2: when something cannot be created, nothing is left half-made.
func TestInitRootFailsWithoutLeavingHalf(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "gone", "away"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []string{
		filepath.Join(blocker, "sub", "config.yaml"), // refused before anything is made
		filepath.Join(dangling, "config.yaml"),       // fails after the dirs under --root were made
	} {
		root := filepath.Join(dir, "openim")
		_, errOut, code := runCLI(t, "init", "--root", root, "--config", cfg)
		if code == ExitOK || errOut == "" {
			t.Errorf("init --config %s: exit %d, stderr %q", cfg, code, errOut)
		}
		if _, err := os.Lstat(root); !os.IsNotExist(err) {
			entries, _ := os.ReadDir(root)
			t.Errorf("init --config %s left %s behind (%v): %v", cfg, root, err, entries)
		}
		if _, err := os.Lstat(dangling); err != nil {
			t.Errorf("init removed what it did not create: %v", err)
		}
	}
}

// Issue 9, item 4: init --force keeps what it replaces.
func TestInitForceKeepsBackup(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	for i, mine := range []string{"# mine, first\n", "# mine, second\n"} {
		if err := os.WriteFile(cfg, []byte(mine), 0o640); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runCLI(t, "--config", cfg, "init", "--force")
		if code != ExitOK {
			t.Fatalf("init --force: exit %d: %s", code, errOut)
		}
		backup := cfg + ".bak"
		if i == 1 {
			backup += ".1"
		}
		got, err := os.ReadFile(backup)
		if err != nil || string(got) != mine {
			t.Errorf("backup %s = %q, %v; want %q", backup, got, err, mine)
		}
		if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("backup mode: %v %v", st.Mode(), err)
		}
		if !strings.Contains(out, "kept the previous "+cfg+" as "+backup) {
			t.Errorf("init --force output:\n%s", out)
		}
	}
}

// init --stdout --processes --pre-start: a fleet host's share of the shipped
// config, printed (the Ansible role writes it); nothing is written.
func TestInitStdoutProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	out, errOut, code := execCLI(nil, "init", "--stdout", "--config", cfgPath, "--root", dir,
		"--processes", "openim-msgtransfer=2,openim-push", "--pre-start", "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"preStart: []", "envFile: '" + filepath.Join(dir, "openim.env") + "'", "- name: openim-push\n", "barrier: true", "- name: openim-msgtransfer\n    instances: 2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "- name: openim-api") || strings.Contains(out, "- name: check-") {
		t.Errorf("output has programs or tools that were not asked for:\n%s", out)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("--stdout wrote %v", ents)
	}
	_, errOut, code = execCLI(nil, "init", "--stdout", "--processes", "openim-chat")
	if code != ExitUsage || !strings.Contains(errOut, "openim-chat not in the example's set") {
		t.Errorf("unknown program: exit %d: %s", code, errOut)
	}
}
