package main

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRPMVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"3.8.3":            "3.8.3",
		"0.0.0-dev":        "0.0.0~dev",
		"1.2.3-rc.1":       "1.2.3~rc.1",
		"1.2.3+4.gabc":     "1.2.3+4.gabc",
		"1.2.3-rc-1+4.gab": "1.2.3~rc_1+4.gab",
	} {
		if got := rpmVersion(in); got != want {
			t.Errorf("rpmVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// stage builds a staging dir like scripts/packages.sh does, with tiny files.
func stage(t *testing.T, exe string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("bin/openim-supervisor"+exe, "#!/bin/sh\n")
	for _, n := range []string{"openim-api", "openim-push", "seq"} {
		write("openim/bin/"+n+exe, "#!/bin/sh\n")
	}
	write("openim/config/share.yml", "secret: x\n")
	write("etc/config.yaml", "version: 2\n")
	for _, n := range []string{"doc/man/openim-supervisor.1.gz", "doc/completions/openim-supervisor.bash",
		"doc/completions/openim-supervisor.fish", "doc/completions/_openim-supervisor"} {
		write(n, "x\n")
	}
	write("changelog.yaml", "- semver: 1.2.3-1\n  date: 2024-01-01T00:00:00Z\n  packager: t <t@example.com>\n  changes:\n    - note: n\n")
	return dir
}

// TestPkgBuildsEveryFormat runs the real nfpm packagers over a small stage
// (from the repository root: nfpm.yaml names ./packaging/... sources).
func TestPkgBuildsEveryFormat(t *testing.T) {
	st := stage(t, "")
	out := t.TempDir()
	t.Chdir("../..")
	var log strings.Builder
	if err := run([]string{"pkg", "-stage", st, "-version", "1.2.3", "-out", out}, &log); err != nil {
		t.Fatalf("pkg: %v", err)
	}
	for _, name := range []string{"openim-server_1.2.3-1_amd64.deb", "openim-server-1.2.3-1.x86_64.rpm",
		"openim-server_1.2.3-r1_x86_64.apk", "openim-server-1.2.3-1-x86_64.pkg.tar.zst"} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not built (%v); output:\n%s", name, err, log.String())
		}
	}
	// the rpm %pre compares against the version filled in here
	b, err := os.ReadFile(filepath.Join(st, "scripts", "rpm", "pre"))
	if err != nil || !strings.Contains(string(b), "new=1.2.3\n") {
		t.Errorf("rendered rpm/pre does not carry the version: %v\n%s", err, b)
	}
}

func TestWindowsZipLayout(t *testing.T) {
	t.Parallel()
	st := stage(t, ".exe")
	out := t.TempDir()
	var log strings.Builder
	if err := run([]string{"archive", "-stage", st, "-version", "1.2.3", "-os", "windows",
		"-packaging", "..", "-out", out}, &log); err != nil {
		t.Fatalf("archive: %v", err)
	}
	zr, err := zip.OpenReader(filepath.Join(out, "openim-server_1.2.3_windows_amd64.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]bool{}
	for _, f := range zr.File {
		got[f.Name] = true
		if f.Name == "openim-server_1.2.3_windows_amd64/config/share.yml" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			if string(b) != "secret: x\n" {
				t.Errorf("share.yml content %q", b)
			}
		}
	}
	for _, want := range []string{"openim-supervisor.exe", "openim-api.exe", "seq.exe", "config/share.yml",
		"config.yaml", "openim.env", "README.txt"} {
		if !got["openim-server_1.2.3_windows_amd64/"+want] {
			t.Errorf("zip lacks %s; has %v", want, got)
		}
	}
}
