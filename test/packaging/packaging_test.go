// Package packaging_test checks the packaging sources: config files are
// protected from upgrades, and the systemd unit's limits fit the shipped
// config. The package-manager cycles are in
// scripts/test.d/40-packaging.sh (they need root and a booted container).
package packaging_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/packaging"
)

type content struct {
	Src      string `yaml:"src"`
	Dst      string `yaml:"dst"`
	Type     string `yaml:"type"`
	Packager string `yaml:"packager"`
	FileInfo struct {
		Mode int `yaml:"mode"`
	} `yaml:"file_info"`
}

type scripts map[string]string

type nfpmDoc struct {
	Contents  []content                            `yaml:"contents"`
	Scripts   scripts                              `yaml:"scripts"`
	Overrides map[string]struct{ Scripts scripts } `yaml:"overrides"`
	RPM       struct{ Scripts scripts }            `yaml:"rpm"`
	APK       struct{ Scripts scripts }            `yaml:"apk"`
	ArchLinux struct{ Scripts scripts }            `yaml:"archlinux"`
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

// TestEtcFilesAreConfig: every file nfpm.yaml puts in /etc is config|noreplace,
// or upgrades overwrite the admin's edits (.goreleaser.yaml's nfpms section is
// generated from nfpm.yaml: packaging/mkpkg checks it is current).
func TestEtcFilesAreConfig(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	var nf nfpmDoc
	readYAML(t, filepath.Join(root, "packaging", "nfpm.yaml"), &nf)
	for _, c := range nf.Contents {
		// (/etc/init.d is apk-only, and apk protects every file under /etc)
		if strings.HasPrefix(c.Dst, "/etc/") && !strings.HasPrefix(c.Dst, "/etc/init.d/") && c.Type != "config|noreplace" {
			t.Errorf("%s: type %q; files in /etc must be config|noreplace or upgrades overwrite them", c.Dst, c.Type)
		}
	}
}

func unitValue(t *testing.T, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(key)+`=(.*)$`).FindAllStringSubmatch(packaging.SystemdUnit, -1)
	if len(m) == 0 {
		t.Fatalf("unit has no %s=", key)
	}
	return strings.TrimSpace(m[len(m)-1][1])
}

func TestUnitFitsTheShippedConfig(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"Type": "notify", "KillMode": "mixed", "User": "openim", "Group": "openim",
		"StateDirectory": "openim", "LogsDirectory": "openim", "RuntimeDirectory": "openim",
		"ExecStart": "/usr/bin/openim-supervisor run --config /etc/openim/config.yaml",
	} {
		if got := unitValue(t, key); got != want {
			t.Errorf("%s=%s, want %s", key, got, want)
		}
	}
	if n, err := strconv.Atoi(unitValue(t, "LimitNOFILE")); err != nil || n < 10000 {
		t.Errorf("LimitNOFILE=%s: want >= 10000 (OpenIM's maxFileDescriptors)", unitValue(t, "LimitNOFILE"))
	}
	if d, err := time.ParseDuration(unitValue(t, "WatchdogSec") + "s"); err != nil || d <= 0 {
		t.Errorf("WatchdogSec=%s: want a positive number of seconds", unitValue(t, "WatchdogSec"))
	}

	// TimeoutStopSec must exceed the children's total stop time: processes
	// stop one after another (instances of one in parallel), each bounded by
	// its stopTimeout.
	var ex struct {
		Defaults struct {
			StopTimeout string `yaml:"stopTimeout"`
		} `yaml:"defaults"`
		Processes []struct {
			Name        string `yaml:"name"`
			StopTimeout string `yaml:"stopTimeout"`
		} `yaml:"processes"`
	}
	if err := yaml.Unmarshal(config.Example(config.DefaultExamplePaths()), &ex); err != nil {
		t.Fatalf("parse the example config: %v", err)
	}
	def, err := time.ParseDuration(ex.Defaults.StopTimeout)
	if err != nil {
		t.Fatalf("example defaults.stopTimeout %q: %v", ex.Defaults.StopTimeout, err)
	}
	var total time.Duration
	for _, p := range ex.Processes {
		d := def
		if p.StopTimeout != "" {
			if d, err = time.ParseDuration(p.StopTimeout); err != nil {
				t.Fatalf("%s stopTimeout: %v", p.Name, err)
			}
		}
		total += d
	}
	stop, err := time.ParseDuration(unitValue(t, "TimeoutStopSec") + "s")
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	if stop <= total {
		t.Errorf("TimeoutStopSec=%v does not exceed the children's total stop time %v (%d processes)", stop, total, len(ex.Processes))
	}
}
