package migrations

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestRegistry fails on a registry out of order, with a duplicate, or out of
// step with the files: every vX_Y_Z_*.go file must hold a step of version
// X.Y.Z, every step's version must have a file, and every golang-migrate file
// must name the version of a registered schema step.
func TestRegistry(t *testing.T) {
	t.Parallel()
	steps := All()
	if err := Validate(steps); err != nil {
		t.Fatal(err)
	}
	versions := map[string]bool{}
	for _, s := range steps {
		versions[s.Version] = true
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fileRe := regexp.MustCompile(`^v(\d+)_(\d+)_(\d+)_[a-z0-9_]+\.go$`)
	fileVersions := map[string]bool{}
	for _, e := range entries {
		m := fileRe.FindStringSubmatch(e.Name())
		if m == nil || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		v := m[1] + "." + m[2] + "." + m[3]
		fileVersions[v] = true
		b, err := os.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "//go:build pkgtest") {
			continue // only in -tags pkgtest builds
		}
		if !versions[v] {
			t.Errorf("%s: no registered step of version %s (missing from All()?)", e.Name(), v)
		}
	}
	for v := range versions {
		if !fileVersions[v] {
			t.Errorf("step version %s has no migrations/v%s_*.go file", v, strings.ReplaceAll(v, ".", "_"))
		}
	}
	// golang-migrate files: NNNN_vX_Y_Z_title.up.json, numbered 1..n without gaps.
	mig, err := mongoFiles.ReadDir("mongo")
	if err != nil {
		t.Fatal(err)
	}
	migRe := regexp.MustCompile(`^(\d{4})_v(\d+)_(\d+)_(\d+)_[a-z0-9_]+\.up\.json$`)
	n := 0
	for _, e := range mig {
		m := migRe.FindStringSubmatch(e.Name())
		if m == nil {
			t.Errorf("mongo/%s: name must be NNNN_vX_Y_Z_title.up.json (golang-migrate would skip it silently)", e.Name())
			continue
		}
		n++
		if want := strings.Repeat("0", 4-len(itoa(n))) + itoa(n); m[1] != want {
			t.Errorf("mongo/%s: expected number %s (gap or duplicate)", e.Name(), want)
		}
		if v := m[2] + "." + m[3] + "." + m[4]; !versions[v] {
			t.Errorf("mongo/%s: version %s has no registered step", e.Name(), v)
		}
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	run := All()[0].Run
	mk := func(v, name string) Step { return Step{Version: v, Name: name, Run: run} }
	cases := map[string][]Step{
		"duplicate":    {mk("3.5.0", "a"), mk("3.5.0", "a")},
		"out of order": {mk("3.8.0", "a"), mk("3.5.0", "b")},
		"prerelease":   {mk("3.5.0-rc.1", "a")},
		"short":        {mk("3.5", "a")},
		"no run":       {{Version: "3.5.0", Name: "x"}},
		"bad":          {mk("three", "a")},
	}
	for name, steps := range cases {
		if err := Validate(steps); err == nil {
			t.Errorf("%s: Validate accepted %v", name, steps)
		}
	}
	if err := Validate([]Step{mk("3.5.0", "a"), mk("3.5.0", "b"), mk("3.8.0", "a")}); err != nil {
		t.Errorf("valid list rejected: %v", err)
	}
}
