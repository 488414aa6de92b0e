package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// Render builds the 3.8.3 files: OpenIM version's shipped files with the
// plan's changes; secrets are left ” in the yml (the key must stay for the
// IMENV_ override to apply) and returned as env variables.
func (p *Plan) Render(version string) (map[string][]byte, map[string]string, error) {
	shipped, err := openimconf.Defaults(version)
	if err != nil {
		return nil, nil, err
	}
	files := map[string]*openimconf.File{}
	for _, s := range openimconf.Files() {
		b, ok := shipped[s.Name]
		if !ok {
			continue
		}
		f, err := openimconf.ParseFile(s, s.Name, b)
		if err != nil {
			return nil, nil, err
		}
		files[s.Name] = f
	}
	env := map[string]string{}
	for _, c := range p.Changes {
		f := files[c.File]
		if f == nil {
			return nil, nil, fmt.Errorf("import: no file %s in OpenIM %s", c.File, version)
		}
		v := c.Value
		if c.Secret {
			if c.Value.Value != "" {
				env[c.Var] = c.Value.Value
			}
			v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "", Style: yaml.SingleQuotedStyle,
				LineComment: "# set in the env file: " + c.Var}
		}
		if err := f.Set(c.Key, v); err != nil {
			return nil, nil, fmt.Errorf("import: %s %s: %w", c.File, c.Key, err)
		}
	}
	// A section the shipped file lacks (discovery.yml zooKeeper) gets all
	// its keys, so that none is read as a silent zero and each can be
	// overridden by IMENV_.
	if d := files["discovery.yml"]; d != nil && d.Get("zooKeeper") != nil {
		for _, k := range []string{"schema", "username", "password"} {
			if d.Get("zooKeeper."+k) == nil {
				if err := d.Set("zooKeeper."+k, ""); err != nil {
					return nil, nil, err
				}
			}
		}
		if d.Get("zooKeeper.address") == nil {
			if err := d.Set("zooKeeper.address", []string{}); err != nil {
				return nil, nil, err
			}
		}
	}
	out := map[string][]byte{}
	for name, f := range files {
		b, err := f.Bytes()
		if err != nil {
			return nil, nil, err
		}
		out[name] = b
	}
	return out, env, nil
}

// Write writes the 3.8.3 dir (which must not hold OpenIM files unless
// force; a forced write moves the old files to DIR.before-import-TIME),
// stamps it, and merges the secrets into envFile (created 0640; other lines
// kept).
func (p *Plan) Write(dir, envFile, version string, force bool) (backup string, err error) {
	files, env, err := p.Render(version)
	if err != nil {
		return "", err
	}
	if ents, err := os.ReadDir(dir); err == nil && hasYAML(ents) {
		if !force {
			return "", fmt.Errorf("%s already holds OpenIM config files; import into an empty dir, or pass --force (the files are moved aside first)", dir)
		}
		backup = fmt.Sprintf("%s.before-import-%s", strings.TrimSuffix(dir, "/"), time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(dir, backup); err != nil {
			return "", fmt.Errorf("move %s aside: %w", dir, err)
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return backup, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return backup, err
		}
	}
	if err := openimconf.WriteStamp(dir, version); err != nil {
		return backup, err
	}
	if envFile != "" && len(env) > 0 {
		if err := MergeEnvFile(envFile, env, "imported from OpenIM "+p.Version+" ("+p.Source+")"); err != nil {
			return backup, err
		}
	}
	return backup, nil
}

func hasYAML(ents []os.DirEntry) bool {
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yml") || strings.HasSuffix(e.Name(), ".yaml") {
			return true
		}
	}
	return false
}

// MergeEnvFile sets vars in a KEY=VALUE env file: a line of the same key is
// replaced in place, new keys are appended under a comment; everything else
// is kept. A new file is created 0640; an existing file keeps its mode
// unless it is wider than 0640, which is refused (secrets).
func MergeEnvFile(path string, vars map[string]string, why string) error {
	old, err := os.ReadFile(path)
	mode := os.FileMode(0o640)
	switch {
	case err == nil:
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		mode = st.Mode().Perm()
		if mode&0o027 != 0 {
			return fmt.Errorf("%s is mode %04o: it holds secrets, so it must not be writable by its group or readable by others (chmod 0640 %s)", path, mode, path)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return err
	}
	done := map[string]bool{}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(old))
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimPrefix(strings.TrimSpace(line), "export ")
		if k, _, ok := strings.Cut(t, "="); ok && !strings.HasPrefix(t, "#") {
			k = strings.TrimSpace(k)
			if v, set := vars[k]; set {
				fmt.Fprintf(&out, "%s=%s\n", k, quoteEnv(v))
				done[k] = true
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		if !done[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		fmt.Fprintf(&out, "# %s\n", why)
		for _, k := range keys {
			fmt.Fprintf(&out, "%s=%s\n", k, quoteEnv(vars[k]))
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out.Bytes(), mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	if st, err := os.Stat(path); err == nil {
		chown(tmp, st)
	}
	return os.Rename(tmp, path)
}

// quoteEnv writes a value in the env file's syntax (internal/config
// ReadEnvFile): plain when safe, else single-quoted, else double-quoted.
func quoteEnv(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t'\"\\#$") {
		return v
	}
	if !strings.Contains(v, "'") && !strings.ContainsAny(v, "\n") {
		return "'" + v + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "$", `\$`)
	return `"` + r.Replace(v) + `"`
}

// Print writes the plan: each change (secrets masked), the count of old
// defaults replaced by 3.8.3's, and every setting without a place.
func (p *Plan) Print(w io.Writer, dir, envFile string) {
	fmt.Fprintf(w, "Import of OpenIM %s config %s (%s)\n", p.Version, p.Source, p.Layout)
	fmt.Fprintf(w, "into %s (OpenIM %s layout)", dir, openimconf.Version)
	if envFile != "" {
		fmt.Fprintf(w, "; secrets into %s", envFile)
	}
	fmt.Fprintln(w)
	byFile := map[string][]Change{}
	var files []string
	for _, c := range p.Changes {
		if _, ok := byFile[c.File]; !ok {
			files = append(files, c.File)
		}
		byFile[c.File] = append(byFile[c.File], c)
	}
	sort.Strings(files)
	fmt.Fprintf(w, "\nCarried (%d settings):\n", len(p.Changes))
	for _, f := range files {
		fmt.Fprintf(w, "  %s\n", f)
		for _, c := range byFile[f] {
			if c.Secret {
				fmt.Fprintf(w, "    %-28s ''  + env %s=%s   <- %s\n", c.Key, c.Var, mask(c.Value, true), c.From)
			} else {
				fmt.Fprintf(w, "    %-28s %s   <- %s\n", c.Key, render(c.Value), c.From)
			}
		}
	}
	fmt.Fprintf(w, "\nLeft at their old default, so OpenIM %s's default is kept: %d settings\n", openimconf.Version, len(p.Defaulted))
	fmt.Fprintf(w, "\nNo place in OpenIM %s (%d):\n", openimconf.Version, len(p.Unplaced))
	last := ""
	for _, u := range p.Unplaced {
		if u.Why != last {
			fmt.Fprintf(w, "  %s:\n", u.Why)
			last = u.Why
		}
		if u.Value != "" {
			fmt.Fprintf(w, "    %s = %s\n", u.From, u.Value)
		} else {
			fmt.Fprintf(w, "    %s\n", u.From)
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "\nnote: %s\n", n)
	}
}
