package openimconf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// Options say where IMENV_ overrides come from.
type Options struct {
	// Env holds the supervisor's env file (the variables every OpenIM
	// process gets); it is looked up first.
	Env map[string]string
	// LookupEnv reads the environment the services inherit; default
	// os.LookupEnv. NoEnviron ignores it (tests, `config import`).
	LookupEnv func(string) (string, bool)
}

// NoEnviron is a LookupEnv that finds nothing.
func NoEnviron(string) (string, bool) { return "", false }

// Dir is an OpenIM config dir as OpenIM 3.8.3 would load it: each file's
// YAML nodes (with lines and comments) and the IMENV_ variables that
// override them.
type Dir struct {
	// Path is the directory.
	Path string
	// Files holds the files of Files() that exist, by name.
	Files map[string]*File
	// Missing lists the files of Files() that do not exist.
	Missing []string

	env    map[string]string
	lookup func(string) (string, bool)
}

// File is one loaded yml file.
type File struct {
	Spec FileSpec
	Path string
	// Doc is the YAML document node (nil for an empty file); Root is its
	// top-level mapping.
	Doc  *yaml.Node
	Root *yaml.Node
}

// Load reads every OpenIM 3.8.3 file in dir. A dir that is empty, missing
// or holds none of OpenIM's files, and a file that is not valid YAML, is an
// error naming the file (and line) and the fix. Files that are missing are
// listed in Dir.Missing (Check reports them).
func Load(dir string, o Options) (*Dir, error) {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if strings.TrimSpace(dir) == "" {
		return nil, &config.Error{Key: "paths.openimConfigDir", Msg: "is empty",
			Fix: "set it to OpenIM's config directory (share.yml, openim-*.yml, ...)"}
	}
	st, err := os.Stat(dir)
	if err != nil {
		fix := "create it with OpenIM's config files, or import an existing installation with `openim-supervisor config import`"
		return nil, &config.Error{File: dir, Msg: "OpenIM config dir: " + unwrapPathErr(err), Fix: fix}
	}
	if !st.IsDir() {
		return nil, &config.Error{File: dir, Msg: "OpenIM config dir is not a directory",
			Fix: "point paths.openimConfigDir at the directory holding share.yml and openim-*.yml"}
	}
	d := &Dir{Path: dir, Files: map[string]*File{}, env: o.Env, lookup: o.LookupEnv}
	var errs config.Errors
	for _, spec := range Files() {
		p := filepath.Join(dir, spec.Name)
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			d.Missing = append(d.Missing, spec.Name)
			continue
		}
		if err != nil {
			errs = append(errs, &config.Error{File: p, Msg: "cannot read: " + unwrapPathErr(err)})
			continue
		}
		f, err := parseFile(spec, p, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.Files[spec.Name] = f
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(d.Files) == 0 {
		return nil, &config.Error{File: dir, Msg: "holds none of OpenIM " + Version + "'s config files (share.yml, openim-api.yml, ...)",
			Fix: "copy OpenIM " + Version + "'s config dir there, or import an existing installation with `openim-supervisor config import`"}
	}
	return d, nil
}

// ParseFile parses one file's content (for tests and the merge).
func ParseFile(spec FileSpec, path string, data []byte) (*File, error) {
	return parseFile(spec, path, data)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func parseFile(spec FileSpec, path string, data []byte) (*File, error) {
	f := &File{Spec: spec, Path: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg, line := err.Error(), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		return nil, &config.Error{File: path, Line: line, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: "),
			Fix: "OpenIM cannot load this file either; fix the syntax"}
	}
	if len(doc.Content) == 0 {
		return f, nil // empty: every key is missing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &config.Error{File: path, Line: root.Line, Msg: "want a mapping of keys at the top",
			Fix: "OpenIM cannot load this file either; write key: value lines"}
	}
	f.Doc, f.Root = &doc, root
	return f, nil
}

func unwrapPathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// getenv is OpenIM's (viper's) lookup: the env file first, then the
// environment; an empty value counts as unset.
func (d *Dir) getenv(name string) (string, bool) {
	if v, ok := d.env[name]; ok {
		return v, v != ""
	}
	v, ok := d.lookup(name)
	return v, ok && v != ""
}

// setenv reports whether name is set at all, empty or not, and where.
func (d *Dir) setenv(name string) (where string, empty, ok bool) {
	if v, ok := d.env[name]; ok {
		return "env file", v == "", true
	}
	if v, ok := d.lookup(name); ok {
		return "environment", v == "", true
	}
	return "", false, false
}

// Leaf is one setting of a file as OpenIM 3.8.3 reads it: a key whose value
// is not a mapping (viper's "leaf keys"; lists are leaves).
type Leaf struct {
	// Key is the dotted path as written in the file ("longConnSvr.ports").
	Key string
	// Line is the key's line in the file.
	Line int
	// Node is the value node in the file.
	Node *yaml.Node
	// Var is the IMENV_ variable for this key.
	Var string
	// FromEnv: Var is set (non-empty) and replaces the file's value.
	FromEnv bool
	// EnvValue is Var's value when FromEnv (a secret: never log it).
	EnvValue string
	// ShadowedBy names a variable for a parent key that is set: OpenIM
	// then reads this key as zero (a viper rule).
	ShadowedBy string
}

// Leaves lists the file's leaf keys in file order, with their overrides.
func (d *Dir) Leaves(f *File) []Leaf {
	var out []Leaf
	if f == nil || f.Root == nil {
		return nil
	}
	var walk func(m *yaml.Node, path []string)
	walk = func(m *yaml.Node, path []string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			p := append(append([]string(nil), path...), k.Value)
			if v.Kind == yaml.MappingNode {
				walk(v, p)
				continue
			}
			key := strings.Join(p, ".")
			l := Leaf{Key: key, Line: k.Line, Node: v, Var: EnvVar(f.Spec.Name, key)}
			for j := 1; j < len(p); j++ {
				pv := EnvVar(f.Spec.Name, strings.Join(p[:j], "."))
				if _, ok := d.getenv(pv); ok {
					l.ShadowedBy = pv
					break
				}
			}
			if l.ShadowedBy == "" {
				if ev, ok := d.getenv(l.Var); ok {
					l.FromEnv, l.EnvValue = true, ev
				}
			}
			out = append(out, l)
		}
	}
	walk(f.Root, nil)
	return out
}

// settings is the nested map OpenIM's loader hands to mapstructure: the
// file's values with IMENV_ values (strings) in place; shadowed and null
// keys are left out.
func (d *Dir) settings(f *File) (map[string]any, error) {
	m := map[string]any{}
	for _, l := range d.Leaves(f) {
		var v any
		switch {
		case l.ShadowedBy != "":
			continue
		case l.FromEnv:
			v = l.EnvValue
		default:
			if err := l.Node.Decode(&v); err != nil {
				return nil, &config.Error{File: f.Path, Line: l.Line, Key: l.Key, Msg: err.Error()}
			}
			if v == nil {
				continue
			}
		}
		parts := strings.Split(l.Key, ".")
		cur := m
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		cur[parts[len(parts)-1]] = v
	}
	return m, nil
}

// Line returns the line of a dotted key in a file (case-insensitive, as
// OpenIM matches keys), 0 when the file or key is absent.
func (d *Dir) Line(name, key string) int {
	f := d.Files[name]
	if f == nil || f.Root == nil {
		return 0
	}
	k, _ := lookup(f.Root, key)
	if k == nil {
		return 0
	}
	return k.Line
}

// lookup finds a dotted key's key and value nodes under m.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	cur := m
	for _, part := range strings.Split(key, ".") {
		if i := strings.IndexByte(part, '['); i >= 0 {
			part = part[:i]
		}
		if cur == nil || cur.Kind != yaml.MappingNode {
			return nil, nil
		}
		k, v = nil, nil
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if strings.EqualFold(cur.Content[i].Value, part) {
				k, v = cur.Content[i], cur.Content[i+1]
				if cur.Content[i].Value == part {
					break
				}
			}
		}
		if k == nil {
			return nil, nil
		}
		cur = v
	}
	return k, v
}

// Path returns the full path of a file name in the dir.
func (d *Dir) FilePath(name string) string { return filepath.Join(d.Path, name) }

func (d *Dir) String() string { return fmt.Sprintf("OpenIM config dir %s", d.Path) }
