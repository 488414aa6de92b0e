//go:build pkgtest

package migrations

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// testSteps adds the package-upgrade test step (build tag pkgtest only).
func testSteps() []Step { return []Step{v384PkgTest()} }

// v384PkgTest is a step that needs no database, for the packaging tests: the
// "newer" test package is built with -tags pkgtest and OpenIMVersion=3.8.4.
// It appends one line to <stateDir>/pkgtest-runs.log, and fails (without
// being marked done) while <stateDir>/pkgtest-fail exists.
func v384PkgTest() Step {
	return Step{
		Version:     "3.8.4",
		Name:        "pkgtest",
		Description: "package upgrade test step",
		Writes:      false,
		Run: func(_ context.Context, env *Env) (Counts, error) {
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
			return Counts{{Table: "pkgtest-runs.log", Target: "-", Source: 1, Written: 1, InTarget: 1}}, nil
		},
	}
}
