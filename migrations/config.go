package migrations

import (
	"context"
	"fmt"
	"strings"

	version "github.com/hashicorp/go-version"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf/merge"
)

// ConfigStep is the config side of an OpenIM release: the keys of OpenIM's
// own config files that the release renamed or moved. `upgrade` merges the
// operator's config dir into the new release's files (internal/openimconf/
// merge: added keys come with their defaults, changed defaults apply where
// the operator kept the old one, true conflicts keep the operator's value
// and leave NAME.yml.new), carrying these renames first. Like data steps,
// config steps are named by the release they belong to, one file per
// release (config_*.go; the pkgtest one in config_pkgtest.go), and run in version order.
type ConfigStep struct {
	Version     string
	Name        string
	Description string
	Ops         []merge.Op
}

// ID names the step: "3.8.4/config-admin-user".
func (s ConfigStep) ID() string { return s.Version + "/" + s.Name }

// ConfigSteps returns the config steps in the order they run. OpenIM 3.8.3,
// the first release this project ships, needs none; builds with -tags
// pkgtest add the 3.8.4 test release's.
func ConfigSteps() []ConfigStep {
	return append([]ConfigStep(nil), testConfigSteps()...)
}

// ValidateConfigSteps checks versions (plain X.Y.Z, in order) and IDs (unique).
func ValidateConfigSteps(steps []ConfigStep) error {
	seen := map[string]bool{}
	var prev *version.Version
	for i, s := range steps {
		v, err := version.NewVersion(s.Version)
		if err != nil || len(v.Segments()) != 3 || v.Original() != v.String() {
			return fmt.Errorf("config step %d (%s): version %q must be a plain X.Y.Z release", i, s.Name, s.Version)
		}
		if s.Name == "" || len(s.Ops) == 0 {
			return fmt.Errorf("config step %d (%s): needs a name and at least one op", i, s.Version)
		}
		if seen[s.ID()] {
			return fmt.Errorf("config step %s: duplicate", s.ID())
		}
		seen[s.ID()] = true
		if prev != nil && v.LessThan(prev) {
			return fmt.Errorf("config step %s: out of order (after %s)", s.ID(), prev)
		}
		prev = v
	}
	return nil
}

// MergeSteps returns the config steps as the merge takes them.
func MergeSteps() []merge.Step {
	var out []merge.Step
	for _, s := range ConfigSteps() {
		out = append(out, merge.Step{Version: s.Version, ID: s.ID(), Description: s.Description, Ops: s.Ops})
	}
	return out
}

// Config is the source of the OpenIM config step: one KindConfig step at
// the release this binary ships (to), which merges the OpenIM config dir
// into that release's files, carrying the declared renames of the releases
// in between (ConfigSteps). It runs before that release's data steps;
// `openim-supervisor config upgrade` runs the same merge alone (the package
// scripts run it as root first, so that the step finds it applied when the
// upgrade runs as the service user).
func Config(to string) Source {
	return list{name: "openim-config", steps: func() []Step {
		desc := "merge OpenIM's config dir into OpenIM " + to + "'s files (edits kept; true conflicts leave NAME.yml.new)"
		for _, s := range ConfigSteps() {
			if s.Version == to {
				desc += "; " + s.Description
			}
		}
		return []Step{{
			Version:     to,
			Name:        "openim-config",
			Kind:        KindConfig,
			Description: desc,
			Writes:      true,
			Applied: func(_ context.Context, env *Env) (bool, error) {
				return merge.Applied(env.OpenIMConfigDir, "", to)
			},
			Run: func(_ context.Context, env *Env) (Counts, error) {
				var b strings.Builder
				out, err := merge.Upgrade(merge.Options{Dir: env.OpenIMConfigDir, StateDir: env.StateDir, To: to,
					Steps: MergeSteps(), Out: &b})
				for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
					if line != "" {
						env.Log.Info(line)
					}
				}
				if err != nil {
					return nil, err
				}
				changed := int64(0)
				for _, r := range out.Results {
					if r.Changed {
						changed++
					}
				}
				return Counts{{Table: "openim config files", Target: env.OpenIMConfigDir, Source: int64(len(out.Results)),
					Written: changed, InTarget: int64(len(out.Results)), Conflicts: int64(out.Conflicts)}}, nil
			},
		}}
	}}
}
