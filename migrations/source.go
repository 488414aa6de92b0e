package migrations

import (
	"fmt"
	"slices"

	version "github.com/hashicorp/go-version"
)

// Source is where steps come from (golang-migrate's source.Driver): a
// read-only list in the order the steps run. It knows nothing about what is
// applied; that is the runner's record (internal/upgrade).
//
// Data() is OpenIM's data steps (this package). The OpenIM config steps and
// the package-test step are further Sources, handed to the runner in its
// options; Join merges them into one plan.
type Source interface {
	// Name says where the steps come from ("data", "openim-config", "pkgtest").
	Name() string
	// Steps returns the source's steps, oldest version first. The slice is
	// the caller's: building it again on each call keeps a Source stateless.
	Steps() []Step
}

type list struct {
	name  string
	steps func() []Step
}

func (l list) Name() string  { return l.name }
func (l list) Steps() []Step { return l.steps() }

// NewSource returns a Source of fixed steps (tests, injected steps).
func NewSource(name string, steps ...Step) Source {
	return list{name: name, steps: func() []Step { return slices.Clone(steps) }}
}

// Data returns OpenIM's data steps in the order they run: by OpenIM version,
// and within one version in the order listed here (indexes before data).
// Every vX_Y_Z_*.go file of this package holds one of them.
func Data() Source {
	return list{name: "data", steps: func() []Step {
		return []Step{
			v350Indexes(),
			v350MySQLToMongo(),
			v380Indexes(),
			v380RedisSeqToMongo(),
			v383Indexes(),
			v383LogAppFramework(),
		}
	}}
}

// Join merges sources into the one order the runner follows: by OpenIM
// version; within one version, the sources in the order given (the caller
// puts config steps before data steps), each keeping its own order. It
// validates every step, refuses a source out of version order, and refuses
// an ID that two steps share.
func Join(srcs ...Source) ([]Step, error) {
	type entry struct {
		s   Step
		v   *version.Version
		src int
	}
	var all []entry
	seen := map[string]string{}
	for si, src := range srcs {
		var prev *version.Version
		for i, s := range src.Steps() {
			v, err := checkStep(s)
			if err != nil {
				return nil, fmt.Errorf("source %s, step %d: %w", src.Name(), i, err)
			}
			if prev != nil && v.LessThan(prev) {
				return nil, fmt.Errorf("source %s: step %s is out of order (after %s)", src.Name(), s.ID(), prev)
			}
			if other, dup := seen[s.ID()]; dup {
				return nil, fmt.Errorf("step %s: in source %s and in %s", s.ID(), other, src.Name())
			}
			seen[s.ID()] = src.Name()
			prev = v
			all = append(all, entry{s, v, si})
		}
	}
	slices.SortStableFunc(all, func(a, b entry) int {
		if c := a.v.Compare(b.v); c != 0 {
			return c
		}
		return a.src - b.src
	})
	out := make([]Step, len(all))
	for i, e := range all {
		out[i] = e.s
	}
	return out, nil
}

// checkStep validates one step and returns its version.
func checkStep(s Step) (*version.Version, error) {
	v, err := version.NewVersion(s.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: version: %w", s.Name, err)
	}
	if v.Prerelease() != "" || v.Metadata() != "" || len(v.Segments()) != 3 || v.Original() != v.String() {
		return nil, fmt.Errorf("%s: version %q must be a plain X.Y.Z release", s.Name, s.Version)
	}
	if s.Name == "" || s.Run == nil {
		return nil, fmt.Errorf("%s: needs a name and a Run function", s.Version)
	}
	switch s.Kind {
	case KindData, KindConfig, KindTest:
	default:
		return nil, fmt.Errorf("%s: kind %q is not data, config or test", s.ID(), s.Kind)
	}
	return v, nil
}
