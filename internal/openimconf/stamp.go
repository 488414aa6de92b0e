package openimconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	version "github.com/hashicorp/go-version"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// StampFile is the file in an OpenIM config dir that records the OpenIM
// version the dir is written for. OpenIM's loader opens only the files it
// names (share.yml, ...), so the file changes nothing for OpenIM.
const StampFile = "openim-version"

// Stamp says which OpenIM version a config dir is for.
type Stamp struct {
	// Version is the recorded version ("3.8.3"), or for an unstamped dir
	// the version its layout belongs to ("3.8", "3.7", "3.4-3.6").
	Version string
	// Stamped: Version comes from StampFile (File, Line).
	Stamped bool
	File    string
	Line    int
	// Layout describes how an unstamped dir was recognised.
	Layout string
}

// WriteStamp records version in dir (atomically; mode 0644).
func WriteStamp(dir, v string) error {
	body := fmt.Sprintf("# The OpenIM version this config dir is written for, kept by openim-supervisor.\n"+
		"# `openim-supervisor run` and `config check` refuse a dir of another version;\n"+
		"# `openim-supervisor upgrade` or `config import` migrate it. OpenIM does not read this file.\n%s\n", v)
	p := filepath.Join(dir, StampFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		return fmt.Errorf("write version stamp: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write version stamp: %w", err)
	}
	return nil
}

// Detect reads dir's stamp, or recognises an unstamped dir by its layout:
// discovery.yml is OpenIM 3.8, zookeeper.yml without it 3.7, a single
// config.yaml 3.4 to 3.6.
func Detect(dir string) (Stamp, error) {
	p := filepath.Join(dir, StampFile)
	data, err := os.ReadFile(p)
	switch {
	case err == nil:
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if _, err := CoreVersion(line); err != nil {
				return Stamp{}, &config.Error{File: p, Line: n, Msg: fmt.Sprintf("%q is not a version", line),
					Fix: "write the OpenIM version the dir is for, e.g. " + Version}
			}
			return Stamp{Version: line, Stamped: true, File: p, Line: n}, nil
		}
		return Stamp{}, &config.Error{File: p, Msg: "holds no version", Fix: "write the OpenIM version the dir is for, e.g. " + Version}
	case !errors.Is(err, fs.ErrNotExist):
		return Stamp{}, &config.Error{File: p, Msg: "cannot read: " + unwrapPathErr(err)}
	}
	has := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	switch {
	case has("discovery.yml"):
		return Stamp{Version: "3.8", Layout: "discovery.yml (OpenIM 3.8 layout), no " + StampFile}, nil
	case has("zookeeper.yml"):
		return Stamp{Version: "3.7", Layout: "zookeeper.yml and no discovery.yml (OpenIM 3.7 layout)"}, nil
	case has("config.yaml"):
		return Stamp{Version: "3.4-3.6", Layout: "config.yaml (OpenIM 3.4 to 3.6 layout)"}, nil
	}
	return Stamp{}, nil
}

// VersionError says a config dir is written for another OpenIM version.
// Command migrates it (or says what to install).
type VersionError struct {
	Dir     string
	Found   Stamp
	Want    string
	Command string
	Newer   bool
}

func (e *VersionError) Error() string {
	where := e.Dir
	if e.Found.Stamped {
		where = fmt.Sprintf("%s:%d", e.Found.File, e.Found.Line)
	}
	what := "is written for OpenIM " + e.Found.Version
	if !e.Found.Stamped {
		what += " (" + e.Found.Layout + ")"
	}
	return fmt.Sprintf("%s: the OpenIM config dir %s; this openim-supervisor runs OpenIM %s (fix: %s)", where, what, e.Want, e.Command)
}

// CheckVersion refuses a dir written for another OpenIM version than want
// (the version this binary ships). An unstamped dir in the 3.8 layout is
// accepted when want is a 3.8 release (the stamp is missing, noted by
// `config check`). configPath is the supervisor config, for the command.
func CheckVersion(dir, want, configPath string) (Stamp, error) {
	st, err := Detect(dir)
	if err != nil {
		return st, err
	}
	if st.Version == "" {
		return st, nil // not an OpenIM dir at all: Load says so
	}
	w, err := CoreVersion(want)
	if err != nil {
		return st, fmt.Errorf("the binary's OpenIM version: %w", err)
	}
	flag := ""
	if configPath != "" {
		flag = " --config " + configPath
	}
	verr := &VersionError{Dir: dir, Found: st, Want: want}
	if !st.Stamped {
		if st.Version == fmt.Sprintf("%d.%d", w.Segments()[0], w.Segments()[1]) {
			return st, nil
		}
		verr.Command = fmt.Sprintf("import it into a new %s dir: openim-supervisor config import --from %s%s", want, dir, flag)
		return st, verr
	}
	found, _ := CoreVersion(st.Version)
	switch {
	case found.Equal(w):
		return st, nil
	case found.GreaterThan(w):
		verr.Newer = true
		verr.Command = "install the openim-supervisor that ships OpenIM " + st.Version + " or newer (a downgrade of the config is not supported)"
	default:
		verr.Command = "run `openim-supervisor config upgrade" + flag + "` (or `openim-supervisor upgrade" + flag + "`, which also migrates pending data): it merges the config dir into OpenIM " + want + "'s files"
	}
	return st, verr
}

// CoreVersion parses "v3.8.3", "3.8.3-patch.16" or "3.8.3-1" to X.Y.Z (the
// part OpenIM releases are compared by).
func CoreVersion(s string) (*version.Version, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexByte(t, '-'); i >= 0 {
		t = t[:i]
	}
	v, err := version.NewVersion(t)
	if err != nil {
		return nil, err
	}
	seg := v.Segments()
	for len(seg) < 3 {
		seg = append(seg, 0)
	}
	return version.NewVersion(fmt.Sprintf("%d.%d.%d", seg[0], seg[1], seg[2]))
}
