package migrations

import (
	"fmt"

	version "github.com/hashicorp/go-version"
)

// All returns every step in the order it runs: by OpenIM version, and within
// one version in the order listed here (schema before data). The list is
// built on each call; there is no package state.
func All() []Step {
	steps := []Step{
		v350MongoIndexes(),
		v350MySQLToMongo(),
		v380SeqIndexes(),
		v380RedisSeqToMongo(),
	}
	return append(steps, testSteps()...)
}

// Validate checks a step list: every version is a plain X.Y.Z release, the
// list is in non-decreasing version order, and no ID repeats.
func Validate(steps []Step) error {
	seen := map[string]bool{}
	var prev *version.Version
	for i, s := range steps {
		v, err := version.NewVersion(s.Version)
		if err != nil {
			return fmt.Errorf("step %d (%s): version: %w", i, s.Name, err)
		}
		if v.Prerelease() != "" || v.Metadata() != "" || len(v.Segments()) != 3 || v.Original() != v.String() {
			return fmt.Errorf("step %d (%s): version %q must be a plain X.Y.Z release", i, s.Name, s.Version)
		}
		if s.Name == "" || s.Run == nil {
			return fmt.Errorf("step %d (%s): needs a name and a Run function", i, s.Version)
		}
		if seen[s.ID()] {
			return fmt.Errorf("step %s: duplicate", s.ID())
		}
		seen[s.ID()] = true
		if prev != nil && v.LessThan(prev) {
			return fmt.Errorf("step %s: out of order (after %s)", s.ID(), prev)
		}
		prev = v
	}
	return nil
}
