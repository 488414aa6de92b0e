package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// execCLI runs openim-supervisor in-process and returns stdout, stderr and the exit code.
func execCLI(stdin io.Reader, args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	code := Execute(buildinfo.Info{Version: "test", OpenIMVersion: "3.8.3"}, args, stdin, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// stubOpenIM fills dir/bin with executables named like OpenIM's binaries.
func stubOpenIM(t *testing.T, dir string) {
	t.Helper()
	for _, n := range []string{"openim-api", "openim-rpc-auth", "openim-rpc-user", "openim-rpc-friend", "openim-rpc-group",
		"openim-rpc-conversation", "openim-rpc-third", "openim-rpc-msg", "openim-push", "openim-msgtransfer",
		"openim-msggateway", "openim-crontask", "check-free-memory", "check-component", "seq"} {
		if err := os.WriteFile(filepath.Join(dir, "bin", n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInitThenCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "etc", "config.yaml")
	out, errOut, code := execCLI(strings.NewReader(""), "init", "--config", cfgPath, "--root", dir)
	if code != ExitOK {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	envPath := filepath.Join(dir, "etc", "openim.env")
	if !strings.Contains(out, "wrote "+cfgPath) || !strings.Contains(out, "wrote "+envPath+" (mode 0600)") {
		t.Errorf("init said:\n%s", out)
	}
	if st, err := os.Stat(envPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("env file: %v %v", st, err)
	}

	// Binaries missing: check names each one, with exit 3.
	_, errOut, code = execCLI(nil, "config", "check", "--config", cfgPath)
	if code != ExitConfig || !strings.Contains(errOut, cfgPath+":") ||
		!strings.Contains(errOut, "processes[8].name: binary "+filepath.Join(dir, "bin", "openim-push")+": no such file") {
		t.Errorf("check without binaries: exit %d:\n%s", code, errOut)
	}

	stubOpenIM(t, dir)
	out, errOut, code = execCLI(nil, "config", "check", "--config", cfgPath, "-v")
	if code != ExitOK {
		t.Fatalf("check: exit %d:\n%s", code, errOut)
	}
	for _, want := range []string{
		cfgPath + ": OK (schema 2, 12 processes, 26 instances, 2 pre-start tools)",
		"openim-push:7", filepath.Join(dir, "bin", "openim-push") + " -i 7 -c " + filepath.Join(dir, "config"),
		"pre-start check-component",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check -v output lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigPathFromEnvironment(t *testing.T) {
	// Not parallel: sets the environment.
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	t.Setenv(EnvConfig, cfgPath)
	if _, errOut, code := execCLI(nil, "init", "--root", dir); code != ExitOK {
		t.Fatalf("init: %d %s", code, errOut)
	}
	if _, err := os.Stat(cfgPath); err != nil {
		t.Fatalf("$%s not used: %v", EnvConfig, err)
	}
}

func TestInitRefusesWithoutTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	envPath := filepath.Join(dir, "openim.env")
	if err := os.WriteFile(cfgPath, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(envPath, []byte("IMENV_REDIS_PASSWORD=s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := execCLI(strings.NewReader("y\n"), "init", "--config", cfgPath)
	if code != ExitError || !strings.Contains(errOut, "there is no terminal to ask") || !strings.Contains(errOut, "--force") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(cfgPath); string(b) != "mine\n" {
		t.Error("config overwritten without asking")
	}

	out, errOut, code := execCLI(nil, "init", "--config", cfgPath, "--force")
	if code != ExitOK || !strings.Contains(out, "kept "+envPath) {
		t.Fatalf("--force: exit %d: %s %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(cfgPath); !bytes.Contains(b, []byte("version: 2")) {
		t.Error("--force did not write the config")
	}
	if b, _ := os.ReadFile(envPath); string(b) != "IMENV_REDIS_PASSWORD=s3cret\n" {
		t.Error("the env file with secrets was replaced")
	}
}

func TestConfigCheckErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	for _, tc := range []struct{ body, want string }{
		{"version: 1\nservices: {openim-api: 1}\n", cfgPath + ":1: version: the file is written in schema version 1; this openim-supervisor reads version 2 (fix: run `openim-supervisor config migrate"},
		{"version: 3\n", "newer than this openim-supervisor understands (2): the binary is too old"},
		{"version: 2\nprocesses:\n  - name: sh\n    command: sh\n    stopTimeuot: 5s\n", cfgPath + ":5: processes[0].stopTimeuot: unknown key (fix: did you mean stopTimeout?"},
	} {
		if err := os.WriteFile(cfgPath, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := execCLI(nil, "config", "check", "--config", cfgPath)
		if code != ExitConfig || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d:\n%s\nwant %q", tc.body, code, errOut, tc.want)
		}
	}
	_, errOut, code := execCLI(nil, "config", "check", "--config", filepath.Join(dir, "none.yaml"))
	if code != ExitConfig || !strings.Contains(errOut, "cannot read config") {
		t.Errorf("missing file: exit %d: %s", code, errOut)
	}
}

const v1Config = `# Our OpenIM box.
version: 1

# Binaries from the tarball.
binDir: /opt/openim/bin
stopTimeout: 40s # slow disks
tools: [seq]
services:
  # the API first
  openim-api: 1
  openim-push: 8 # one per partition
`

func TestConfigMigrate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(v1Config), 0o640); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := execCLI(nil, "config", "migrate", "--config", cfgPath, "--dry-run")
	if code != ExitOK || !strings.Contains(out, "version: 2") {
		t.Fatalf("dry run: exit %d: %s %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(cfgPath); string(b) != v1Config {
		t.Fatal("--dry-run wrote the file")
	}

	out, _, code = execCLI(nil, "config", "migrate", "--config", cfgPath)
	backup := cfgPath + ".v1.bak"
	if code != ExitOK || !strings.Contains(out, "migrated "+cfgPath+" from schema version 1 to 2; the original is kept as "+backup) {
		t.Fatalf("migrate: exit %d: %s", code, out)
	}
	if b, _ := os.ReadFile(backup); string(b) != v1Config {
		t.Errorf("backup is not the original:\n%s", b)
	}
	got, _ := os.ReadFile(cfgPath)
	for _, want := range []string{"# Our OpenIM box.", "version: 2", "paths:\n  # Binaries from the tarball.\n  binDir: /opt/openim/bin",
		"defaults:\n  stopTimeout: 40s # slow disks", "preStart:\n  - name: seq",
		"processes:\n  # the API first\n  - name: openim-api\n    instances: 1\n  - name: openim-push\n    instances: 8 # one per partition"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("migrated file lacks %q:\n%s", want, got)
		}
	}
	if st, _ := os.Stat(cfgPath); st.Mode().Perm() != 0o640 {
		t.Errorf("mode changed to %v", st.Mode())
	}
	if _, err := config.Parse(cfgPath, got, config.Options{SkipFileChecks: true}); err != nil {
		t.Errorf("migrated file does not parse: %v", err)
	}

	// Again: nothing to do, no second backup.
	out, _, code = execCLI(nil, "config", "migrate", "--config", cfgPath)
	if code != ExitOK || !strings.Contains(out, "already at schema version 2; nothing to do") {
		t.Errorf("second migrate: exit %d: %s", code, out)
	}
	if _, err := os.Stat(backup + ".1"); err == nil {
		t.Error("second run made another backup")
	}

	// A second migration of another v1 file keeps the first backup.
	if err := os.WriteFile(cfgPath, []byte(v1Config), 0o640); err != nil {
		t.Fatal(err)
	}
	if out, _, code = execCLI(nil, "config", "migrate", "--config", cfgPath); code != ExitOK || !strings.Contains(out, backup+".1") {
		t.Errorf("backup not numbered: %s", out)
	}
}

func TestConfigMigrateRefusesUnknownKey(t *testing.T) {
	t.Parallel()
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	body := "version: 1\nservices: {openim-api: 1}\nbinDri: /x\n"
	if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := execCLI(nil, "config", "migrate", "--config", cfgPath)
	if code != ExitConfig || !strings.Contains(errOut, cfgPath+":3: binDri: not a key of schema version 1") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if b, _ := os.ReadFile(cfgPath); string(b) != body {
		t.Error("file changed")
	}
	if _, err := os.Stat(cfgPath + ".v1.bak"); err == nil {
		t.Error("backup written for a refused migration")
	}
}
