package merge

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	version "github.com/hashicorp/go-version"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// Step is a release's declared renames (migrations.ConfigSteps()).
type Step struct {
	Version     string
	ID          string
	Description string
	Ops         []Op
}

// Options drive Upgrade.
type Options struct {
	Dir      string // OpenIM's config dir
	StateDir string // records of shipped files, backups
	// From is the release an unstamped 3.8 dir is for (the package's old
	// version); "" means OpenIM 3.8.3, the first release shipped by
	// openim-supervisor (a dir from before stamping is at most that).
	From string
	To   string // the release this binary ships
	// Steps are every declared config step; those after the dir's release
	// and up to To are applied.
	Steps []Step
	Plan  bool // print, write nothing
	Out   io.Writer
}

// Outcome is what Upgrade did.
type Outcome struct {
	From, To  string
	Nothing   bool   // the dir is at To already (or not a 3.8 dir: NotMerged)
	NotMerged string // why a dir was left alone
	Steps     []Step
	Results   []FileResult
	Conflicts int
	Backup    string
}

// ErrDowngrade: the dir is for a newer release than To.
var ErrDowngrade = errors.New("the OpenIM config dir is for a newer OpenIM release: a downgrade")

// ErrNotWritable: the merge is due but this user cannot write the dir.
var ErrNotWritable = errors.New("cannot write the OpenIM config dir")

// Record is where the files of the release a dir was last merged to are
// kept: the old defaults of the next upgrade.
func Record(stateDir, v string) string {
	return filepath.Join(stateDir, "openim-config-defaults", v)
}

// Applied reports whether dir needs no merge to reach to (stamped to, or
// not an OpenIM 3.8 dir at all).
func Applied(dir, from, to string) (bool, error) {
	st, err := openimconf.Detect(dir)
	if err != nil {
		return false, err
	}
	if st.Version == "" || (!st.Stamped && st.Version != "3.8") {
		return true, nil
	}
	f, t, err := versions(st, from, to)
	if err != nil {
		return false, err
	}
	return f.Equal(t), nil
}

func versions(st openimconf.Stamp, from, to string) (*version.Version, *version.Version, error) {
	fs := st.Version
	if !st.Stamped {
		fs = from
		if fs == "" {
			fs = openimconf.Version
		}
	}
	f, err := openimconf.CoreVersion(fs)
	if err != nil {
		return nil, nil, err
	}
	t, err := openimconf.CoreVersion(to)
	if err != nil {
		return nil, nil, err
	}
	return f, t, nil
}

// Upgrade brings dir from its release to o.To: the declared renames of the
// releases in between, then the three-way merge of the old release's files
// (the record of the last merge, else the copy this binary carries), the new
// release's and the operator's. It backs the old files up, writes the
// merged ones, NAME.yml.new for true conflicts, the stamp and the record.
func Upgrade(o Options) (*Outcome, error) {
	w := o.Out
	if w == nil {
		w = io.Discard
	}
	st, err := openimconf.Detect(o.Dir)
	if err != nil {
		return nil, err
	}
	out := &Outcome{To: o.To}
	switch {
	case st.Version == "":
		out.Nothing, out.NotMerged = true, "no OpenIM config there"
		return out, nil
	case !st.Stamped && st.Version != "3.8":
		out.Nothing = true
		out.NotMerged = fmt.Sprintf("OpenIM %s's layout (%s); bring its settings into the %s layout with "+
			"`openim-supervisor config import --from %s --to NEW_DIR` and point paths.openimConfigDir at NEW_DIR", st.Version, st.Layout, o.To, o.Dir)
		fmt.Fprintf(w, "OpenIM config %s: %s.\n", o.Dir, out.NotMerged)
		return out, nil
	}
	fv, tv, err := versions(st, o.From, o.To)
	if err != nil {
		return nil, err
	}
	out.From, out.To = fv.String(), tv.String()
	if fv.Equal(tv) {
		out.Nothing = true
		if !st.Stamped && !o.Plan {
			if err := openimconf.WriteStamp(o.Dir, o.To); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(w, "OpenIM config %s: at OpenIM %s, nothing to merge.\n", o.Dir, o.To)
		return out, nil
	}
	if fv.GreaterThan(tv) {
		return nil, fmt.Errorf("%w: %s is written for OpenIM %s, this binary ships %s; restore the backup taken before the upgrade",
			ErrDowngrade, o.Dir, fv, tv)
	}
	var ops []Op
	for _, s := range o.Steps {
		sv, err := openimconf.CoreVersion(s.Version)
		if err != nil {
			return nil, err
		}
		if sv.GreaterThan(fv) && !sv.GreaterThan(tv) {
			out.Steps = append(out.Steps, s)
			ops = append(ops, s.Ops...)
		}
	}
	base, baseFrom, err := oldDefaults(o.StateDir, fv.String())
	if err != nil {
		return nil, err
	}
	theirs, err := openimconf.Defaults(o.To)
	if err != nil {
		return nil, err
	}
	mine := map[string][]byte{}
	for name := range theirs {
		b, err := os.ReadFile(filepath.Join(o.Dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		mine[name] = b
	}
	rs, err := Dir(mine, base, theirs, ops)
	if err != nil {
		return nil, fmt.Errorf("merge %s: %w", o.Dir, err)
	}
	out.Results = rs
	for _, r := range rs {
		out.Conflicts += len(r.Conflicts)
	}
	printMerge(w, o.Dir, out, baseFrom)
	if o.Plan {
		return out, nil
	}
	if err := writable(o.Dir); err != nil {
		return nil, fmt.Errorf("%w %s (%v): the merge to OpenIM %s must run as its owner (root): openim-supervisor config upgrade", ErrNotWritable, o.Dir, err, o.To)
	}
	out.Backup = filepath.Join(o.StateDir, "backup", fmt.Sprintf("openim-config-%s-%s", fv, time.Now().UTC().Format("20060102T150405.000Z")))
	if err := copyDir(o.Dir, out.Backup); err != nil {
		return nil, fmt.Errorf("back up %s: %w", o.Dir, err)
	}
	ownLike(o.StateDir, out.Backup)
	for _, r := range rs {
		p := filepath.Join(o.Dir, r.Name)
		if r.Changed {
			if err := writeKeepMode(p, r.Out); err != nil {
				return nil, fmt.Errorf("write %s (the old files are in %s): %w", p, out.Backup, err)
			}
		}
		if len(r.Conflicts) > 0 {
			if err := os.WriteFile(p+".new", r.New, 0o644); err != nil {
				return nil, err
			}
		}
	}
	if err := openimconf.WriteStamp(o.Dir, o.To); err != nil {
		return nil, err
	}
	if err := record(o.StateDir, o.To, theirs); err != nil {
		return nil, err
	}
	ownLike(o.StateDir, Record(o.StateDir, o.To))
	fmt.Fprintf(w, "OpenIM config %s merged to OpenIM %s (your previous files: %s).\n", o.Dir, o.To, out.Backup)
	if out.Conflicts > 0 {
		fmt.Fprintf(w, "%d true conflict(s): your values were kept; OpenIM %s's files are next to them as NAME.yml.new. "+
			"Merge what you want and delete the .new files (`openim-supervisor config check` lists them until then).\n", out.Conflicts, o.To)
	}
	return out, nil
}

func oldDefaults(stateDir, v string) (map[string][]byte, string, error) {
	rec := Record(stateDir, v)
	if ents, err := os.ReadDir(rec); err == nil && len(ents) > 0 {
		out := map[string][]byte{}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".yml") {
				b, err := os.ReadFile(filepath.Join(rec, e.Name()))
				if err != nil {
					return nil, "", err
				}
				out[e.Name()] = b
			}
		}
		return out, rec, nil
	}
	files, err := openimconf.Defaults(v)
	if err != nil {
		return nil, "", fmt.Errorf("the OpenIM config dir is written for OpenIM %s, whose shipped files this binary does not carry "+
			"and %s does not hold, so your edits cannot be told from the defaults; compare your files with "+
			"`openim-supervisor config defaults --out DIR` by hand and run `openim-supervisor config stamp` when done", v, rec)
	}
	return files, "the files OpenIM " + v + " ships (carried by this binary)", nil
}

func record(stateDir, v string, files map[string][]byte) error {
	rec := Record(stateDir, v)
	if err := os.MkdirAll(rec, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(rec, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yml") || e.Name() == openimconf.StampFile) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o640); err != nil {
			return err
		}
	}
	return nil
}

func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".openim-write-test-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func writeKeepMode(p string, b []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(p); err == nil {
		mode = st.Mode().Perm()
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func printMerge(w io.Writer, dir string, o *Outcome, baseFrom string) {
	fmt.Fprintf(w, "OpenIM config %s: OpenIM %s -> %s (old defaults: %s)\n", dir, o.From, o.To, baseFrom)
	for _, s := range o.Steps {
		fmt.Fprintf(w, "  config step %s: %s\n", s.ID, s.Description)
	}
	for _, r := range o.Results {
		if !r.Changed && len(r.Conflicts) == 0 {
			continue
		}
		var parts []string
		for _, x := range []struct {
			what string
			keys []string
		}{{"moved", r.Moved}, {"added", r.Added}, {"new default", r.Updated}, {"removed", r.Removed}} {
			if len(x.keys) > 0 {
				parts = append(parts, x.what+" "+strings.Join(x.keys, ", "))
			}
		}
		fmt.Fprintf(w, "  %s: %s\n", r.Name, strings.Join(parts, "; "))
		for _, c := range r.Conflicts {
			fmt.Fprintf(w, "    conflict %s -> %s.new\n", c, r.Name)
		}
	}
}
