package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPreflightUnitSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Root, no sandbox: nothing to say.
	if p := preflight("[Service]\nUser=root\n", PreflightPaths{Config: cfg, WritePaths: []string{dir}}); len(p) != 0 {
		t.Errorf("problems for root without a sandbox: %v", p)
	}
	// A user who cannot read a 0600 file of root's.
	p := preflight("[Service]\nUser=nobody\n", PreflightPaths{Config: cfg})
	if len(p) != 1 || !strings.Contains(p[0].What, "cannot be read by user nobody:") {
		t.Errorf("nobody and a 0600 config: %v", p)
	}
	// ProtectSystem=strict: only the unit's directories are writable.
	p = preflight("[Service]\nProtectSystem=strict\nStateDirectory=openim\n", PreflightPaths{WritePaths: []string{"/var/lib/openim/x", "/srv/openim/logs"}})
	if len(p) != 1 || !strings.Contains(p[0].What, "/srv/openim/logs, which the unit's ProtectSystem=strict makes read-only") {
		t.Errorf("strict: %v", p)
	}
	p = preflight("[Service]\nProtectHome=yes\n", PreflightPaths{Config: "/home/admin/openim/config.yaml"})
	if len(p) != 1 || !strings.Contains(p[0].What, "ProtectHome= hides") {
		t.Errorf("home: %v", p)
	}
}
