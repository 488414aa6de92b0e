package cli

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 9, item 5: outside the packages, `service install` checks what the
// unit needs and says what is missing, instead of installing a unit that
// cannot start.
func TestServiceInstallChecksWhatTheUnitNeeds(t *testing.T) {
	if _, err := user.Lookup("openim"); err == nil {
		t.Skip("an openim user exists on this machine (it must not, see COMMON.md); the missing-user case cannot be shown")
	}
	root := t.TempDir() // under /tmp: hidden by the unit's PrivateTmp=yes
	if _, errOut, code := runCLI(t, "init", "--root", root); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	unitDir := t.TempDir()
	cfg := filepath.Join(root, "config.yaml")
	_, errOut, code := runCLI(t, "--config", cfg, "service", "install", "--unit-dir", unitDir)
	if code != ExitCheckFailed {
		t.Fatalf("service install: exit %d, want %d; stderr:\n%s", code, ExitCheckFailed, errOut)
	}
	for _, want := range []string{
		"the unit runs as User=openim, and there is no such user (fix: create it: systemd-sysusers",
		"the config " + cfg + " is under /tmp, which the unit's PrivateTmp=yes replaces with an empty one",
		"nothing was installed",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(unitDir, "openim-server.service")); err == nil {
		t.Error("the unit was written although the checks failed")
	}
	if _, errOut, code := runCLI(t, "--config", cfg, "service", "install", "--skip-checks", "--unit-dir", unitDir); code != 0 {
		t.Errorf("--skip-checks: exit %d: %s", code, errOut)
	}
}
