package migrations

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDataSource fails on a data source out of order, with a duplicate, or
// out of step with the files: every vX_Y_Z_*.go file must hold a step of
// version X.Y.Z, every step's version must have a file, and every
// golang-migrate file must name the version of a registered schema step.
func TestDataSource(t *testing.T) {
	t.Parallel()
	steps, err := Join(Data())
	if err != nil {
		t.Fatal(err)
	}
	versions := map[string]bool{}
	for _, s := range steps {
		versions[s.Version] = true
		if s.Kind != KindData {
			t.Errorf("%s: kind %s in the data source", s.ID(), s.Kind)
		}
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
		if !versions[v] {
			t.Errorf("%s: no step of version %s in Data() (missing from source.go?)", e.Name(), v)
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
		if want := fmt.Sprintf("%04d", n); m[1] != want {
			t.Errorf("mongo/%s: expected number %s (gap or duplicate)", e.Name(), want)
		}
		if v := m[2] + "." + m[3] + "." + m[4]; !versions[v] {
			t.Errorf("mongo/%s: version %s has no registered step", e.Name(), v)
		}
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	run := func(context.Context, *Env) (Counts, error) { return nil, nil }
	mk := func(v, name string) Step { return Step{Version: v, Name: name, Kind: KindData, Run: run} }
	cfg := func(v, name string) Step { return Step{Version: v, Name: name, Kind: KindConfig, Run: run} }
	bad := map[string][]Source{
		"duplicate":          {NewSource("a", mk("3.5.0", "a"), mk("3.5.0", "a"))},
		"duplicate across":   {NewSource("a", mk("3.5.0", "a")), NewSource("b", mk("3.5.0", "a"))},
		"out of order":       {NewSource("a", mk("3.8.0", "a"), mk("3.5.0", "b"))},
		"prerelease":         {NewSource("a", mk("3.5.0-rc.1", "a"))},
		"short":              {NewSource("a", mk("3.5", "a"))},
		"no run":             {NewSource("a", Step{Version: "3.5.0", Name: "x", Kind: KindData})},
		"no kind":            {NewSource("a", Step{Version: "3.5.0", Name: "x", Run: run})},
		"not a version":      {NewSource("a", mk("three", "a"))},
		"out of order (cfg)": {NewSource("c", cfg("3.8.0", "x"), cfg("3.7.0", "y"))},
	}
	for name, srcs := range bad {
		if _, err := Join(srcs...); err == nil {
			t.Errorf("%s: Join accepted it", name)
		}
	}
	// Config steps of a version run before that version's data steps when
	// their source comes first; versions interleave.
	got, err := Join(NewSource("config", cfg("3.5.0", "c1"), cfg("3.8.0", "c2")),
		NewSource("data", mk("3.5.0", "d1"), mk("3.5.0", "d2"), mk("3.8.0", "d3")),
		NewSource("test", Step{Version: "3.8.4", Name: "t", Kind: KindTest, Run: run}))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID())
	}
	if want := "3.5.0/c1 3.5.0/d1 3.5.0/d2 3.8.0/c2 3.8.0/d3 3.8.4/t"; strings.Join(ids, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(ids, " "), want)
	}
}
