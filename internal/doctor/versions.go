package doctor

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade"
)

// openIMModule is the Go module OpenIM's binaries are built from; its
// version is stamped into every binary (go version -m).
const openIMModule = "github.com/openimsdk/open-im-server/v3"

// versions: the OpenIM binaries, OpenIM's config dir and the data must all
// be the version this openim-supervisor ships; OpenIM itself checks none of it.
type versions struct{}

func (versions) Name() string { return "versions" }

func (versions) Run(_ context.Context, e *Env) []Finding {
	cfg := e.Cfg()
	if cfg == nil {
		return skip("versions", "the supervisor config did not load")
	}
	want := e.Info.OpenIMVersion
	var out []Finding
	// Binaries.
	var mismatched, unknown []string
	seen := 0
	for _, p := range cfg.Processes {
		if p.Command != "" {
			continue
		}
		path := filepath.Join(cfg.Paths.BinDir, p.Name)
		v, err := binaryVersion(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue // config reports missing binaries
		case err != nil || v == "":
			unknown = append(unknown, p.Name)
		case core(v) != core(want):
			mismatched = append(mismatched, p.Name+" "+v)
		}
		seen++
	}
	switch {
	case len(mismatched) > 0:
		out = append(out, Finding{Status: Fail, Subject: cfg.Paths.BinDir,
			Cause: "binaries of another OpenIM version than " + want + ": " + strings.Join(mismatched, ", "),
			Fix:   "install the OpenIM " + want + " binaries this openim-supervisor ships (reinstall the package), or the openim-supervisor release for that version"})
	case len(unknown) > 0:
		out = append(out, Finding{Status: Warn, Subject: cfg.Paths.BinDir,
			Cause: "cannot tell the OpenIM version of " + strings.Join(unknown, ", ") + " (not built from " + openIMModule + " with module information)",
			Fix:   "use the binaries the package ships"})
	case seen > 0:
		out = append(out, ok(cfg.Paths.BinDir, "%d OpenIM binaries are %s", seen, want))
	}
	// Config dir.
	if st, err := openimconf.CheckVersion(cfg.Paths.OpenIMConfigDir, want, cfg.Source); err != nil {
		var ve *openimconf.VersionError
		if errors.As(err, &ve) {
			out = append(out, Finding{Status: Fail, Subject: cfg.Paths.OpenIMConfigDir,
				Cause: fmt.Sprintf("is written for OpenIM %s, this openim-supervisor runs %s", ve.Found.Version, want), Fix: ve.Command})
		} else {
			out = append(out, Finding{Status: Warn, Subject: cfg.Paths.OpenIMConfigDir, Cause: oneLine(err)})
		}
	} else if st.Version != "" {
		out = append(out, ok(cfg.Paths.OpenIMConfigDir, "written for OpenIM %s", st.Version))
	}
	// Data.
	st, found, err := upgrade.LoadState(cfg.Paths.StateDir)
	switch {
	case err != nil:
		out = append(out, Finding{Status: Warn, Subject: "data version", Cause: oneLine(err)})
	case !found || st.DataVersion == "":
		out = append(out, ok("data version", "no upgrade record yet in %s; `openim-supervisor upgrade --plan` shows what is pending", cfg.Paths.StateDir))
	case core(st.DataVersion) != core(want):
		out = append(out, Finding{Status: Fail, Subject: "data version",
			Cause: "the data is at OpenIM " + st.DataVersion + ", the binaries are " + want + "; the supervisor refuses to start OpenIM on it",
			Fix:   "run `openim-supervisor upgrade --plan`, then `openim-supervisor upgrade` (it backs up first)"})
	default:
		out = append(out, ok("data version", "OpenIM %s (%s)", st.DataVersion, upgrade.StatePath(cfg.Paths.StateDir)))
	}
	return out
}

// binaryVersion reads the OpenIM module version stamped into a Go binary.
func binaryVersion(path string) (string, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		if _, serr := os.Stat(path); serr != nil {
			return "", serr
		}
		return "", err
	}
	if bi.Main.Path == openIMModule {
		return bi.Main.Version, nil
	}
	for _, d := range bi.Deps {
		if d.Path == openIMModule {
			return d.Version, nil
		}
	}
	return "", nil
}

// core is X.Y.Z of "v3.8.3", "3.8.3-patch.16" or "3.8.3-1".
func core(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	return v
}
