//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 9, item 4: files others can read or write are refused the way
// OpenSSH refuses them, naming the file, its mode and the chmod that fixes it.
func TestUnsafeModesRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		cfgMode, envMode os.FileMode
		dirMode          os.FileMode
		want             string // "" = loads
	}{
		{"safe 0644 config, 0600 env", 0o644, 0o600, 0o755, ""},
		{"env 0640 (group of the service)", 0o644, 0o640, 0o755, ""},
		{"env 0644 with a password", 0o644, 0o644, 0o755, "openim.env: env file has mode 0644: other users can read the secrets in it"},
		{"env group-writable 0660", 0o644, 0o660, 0o755, "env file has mode 0660"},
		{"config 0666", 0o666, 0o600, 0o755, "config.yaml: config file has mode 0666: other users can change the commands the supervisor runs"},
		{"config 0664", 0o664, 0o600, 0o755, "config file has mode 0664"},
		{"directory writable by all", 0o644, 0o600, 0o777, "any user can replace the config file"},
		{"sticky directory is fine", 0o644, 0o600, os.ModeSticky | 0o777, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "etc")
			tree(t, dir, "openim-api")
			env := writeFile(t, filepath.Join(dir, "openim.env"), "IMENV_MONGODB_PASSWORD=s3cret-value\n", 0o600)
			cfgPath := writeFile(t, filepath.Join(dir, "config.yaml"), "version: 2\npaths:\n  binDir: bin\n  openimConfigDir: conf\n"+
				"envFile: openim.env\nprocesses:\n  - name: openim-api\n", 0o644)
			for p, m := range map[string]os.FileMode{env: tc.envMode, cfgPath: tc.cfgMode, dir: tc.dirMode} {
				if err := os.Chmod(p, m); err != nil { // chmod, not the umask, decides
					t.Fatal(err)
				}
			}
			_, err := Load(cfgPath)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "(fix: chmod ")):
				t.Fatalf("err = %v; want %q and a chmod fix", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "s3cret-value"):
				t.Fatalf("the error shows the secret: %v", err)
			}
			// Clients that only need the socket path still load it.
			if _, err := LoadWith(cfgPath, Options{SkipFileChecks: true}); err != nil {
				t.Errorf("SkipFileChecks: %v", err)
			}
		})
	}
}

func TestForeignOwnerRefused(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	dir := t.TempDir()
	tree(t, dir, "openim-api")
	env := writeFile(t, filepath.Join(dir, "openim.env"), "A=b\n", 0o600)
	if err := os.Chown(env, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, cfgPath, err := load(t, dir, "version: 2\npaths:\n  binDir: bin\n  openimConfigDir: conf\nenvFile: openim.env\nprocesses:\n  - name: openim-api\n", nil)
	if err == nil || !strings.Contains(err.Error(), "env file belongs to uid 65534") || !strings.Contains(err.Error(), "chown root") {
		t.Fatalf("%s: err = %v", cfgPath, err)
	}
}
