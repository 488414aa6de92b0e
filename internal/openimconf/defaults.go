package openimconf

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// shipped holds the config files of each OpenIM release this binary knows
// (defaults/<version>/*.yml; see defaults/README.md).
//
//go:embed defaults/3.8.3/*.yml
var shipped embed.FS

// Defaults returns OpenIM's own config files of a release this binary
// knows, as shipped (name → content). Builds with -tags pkgtest also know
// the test release 3.8.4 (see defaults_pkgtest.go).
func Defaults(version string) (map[string][]byte, error) {
	if v, ok := testDefaults(version); ok {
		return v, nil
	}
	core, err := CoreVersion(version)
	if err != nil {
		return nil, err
	}
	dir := path.Join("defaults", core.String())
	ents, err := fs.ReadDir(shipped, dir)
	if err != nil {
		return nil, fmt.Errorf("this openim-supervisor does not carry OpenIM %s's config files", version)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := fs.ReadFile(shipped, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = b
	}
	return out, nil
}

// WriteDefaults writes OpenIM's config files of version into dir (created
// 0755 when missing) and stamps it when it wrote every file. Files that
// exist are left alone unless overwrite; it refuses a dir that holds
// another release's layout.
func WriteDefaults(dir, version string, overwrite bool) ([]string, error) {
	files, err := Defaults(version)
	if err != nil {
		return nil, err
	}
	if st, err := Detect(dir); err == nil && st.Version != "" && !st.Stamped && st.Version != "3.8" {
		return nil, fmt.Errorf("%s holds OpenIM %s's config (%s); import it with `openim-supervisor config import --from %s` instead",
			dir, st.Version, st.Layout, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var wrote []string
	all := true
	for _, s := range Files() {
		b, ok := files[s.Name]
		if !ok {
			continue
		}
		p := filepath.Join(dir, s.Name)
		if _, err := os.Stat(p); err == nil && !overwrite {
			all = false
			continue
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return wrote, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return wrote, err
		}
		wrote = append(wrote, s.Name)
	}
	if !all {
		return wrote, nil // some files were there before: their version is not ours to state
	}
	return wrote, WriteStamp(dir, version)
}
