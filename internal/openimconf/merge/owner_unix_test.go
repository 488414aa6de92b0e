//go:build unix

package merge

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// TestUpgradeLeavesStateDirToItsOwner: run as root (the package scripts),
// the merge's backup and record dirs get the state dir's owner, so that the
// data upgrade, run next as the service user, can still write there.
func TestUpgradeLeavesStateDirToItsOwner(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to own files as another user")
	}
	dir, state := t.TempDir(), t.TempDir()
	if _, err := openimconf.WriteDefaults(dir, "3.8.3", false); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	// A merge from 3.8.3 to 3.8.3 is a no-op; pretend the dir is older.
	if err := openimconf.WriteStamp(dir, "3.8.2"); err != nil {
		t.Fatal(err)
	}
	_, err := Upgrade(Options{Dir: dir, StateDir: state, To: "3.8.3", Out: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "3.8.2") {
		t.Fatalf("a release whose files are not carried: %v", err) // 3.8.2's files are not embedded
	}
	if err := os.MkdirAll(Record(state, "3.8.2"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := openimconf.Defaults("3.8.3")
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(Record(state, "3.8.2"), n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := Upgrade(Options{Dir: dir, StateDir: state, To: "3.8.3", Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(state, "backup"), out.Backup, filepath.Join(state, "openim-config-defaults"), Record(state, "3.8.3")} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if s := st.Sys().(*syscall.Stat_t); s.Uid != 65534 {
			t.Errorf("%s is owned by %d, want the state dir's owner 65534", p, s.Uid)
		}
	}
}
