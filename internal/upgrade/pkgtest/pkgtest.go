// Package pkgtest is the step the package-upgrade tests inject (build tag
// pkgtest, see internal/cli/upgrade_pkgtest.go): a "newer" test package is
// built with -tags pkgtest and OpenIMVersion=3.8.4, and its upgrade must run
// a step that needs no database. Release builds never import this package.
package pkgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// Source returns the test step at the given OpenIM version (the version the
// test build ships, so that upgrading to it runs the step).
func Source(version string) migrations.Source {
	return migrations.NewSource("pkgtest", Step(version))
}

// Step appends one line to <stateDir>/pkgtest-runs.log, and fails (without
// being marked done) while <stateDir>/pkgtest-fail exists.
func Step(version string) migrations.Step {
	return migrations.Step{
		Version:     version,
		Name:        "pkgtest",
		Kind:        migrations.KindTest,
		Description: "package upgrade test step (only in -tags pkgtest builds)",
		Run: func(_ context.Context, env *migrations.Env) (migrations.Counts, error) {
			log := filepath.Join(env.StateDir, "pkgtest-runs.log")
			f, err := os.OpenFile(log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", log, err)
			}
			_, werr := fmt.Fprintf(f, "%s pkgtest step ran pid=%d\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getpid())
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return nil, fmt.Errorf("write %s: %w", log, werr)
			}
			fail := filepath.Join(env.StateDir, "pkgtest-fail")
			if _, err := os.Stat(fail); err == nil {
				return nil, errors.New("pkgtest step: " + fail + " exists (remove it to let the step pass)")
			}
			return migrations.Counts{{Table: "pkgtest-runs.log", Target: "-", Source: 1, Written: 1, InTarget: 1}}, nil
		},
	}
}
