package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/paths"
	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// Options change how a config is loaded. The zero value is what the program uses.
type Options struct {
	// LookupEnv reads the supervisor's environment for ${VAR}; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// SkipFileChecks loads what can be loaded without the file system's
	// cooperation: binaries, directories and working directories are not
	// checked, an env file that cannot be read (missing, or not readable by
	// this user) is treated as empty, and a ${VAR} that is not set expands to
	// "" instead of being an error. For clients that only need a few settings
	// (the socket path), `config migrate`'s shape check, and the fuzz test.
	SkipFileChecks bool
}

// Load reads, strictly decodes, expands, defaults and validates the config at
// path. Every problem found is returned at once, as Errors of *Error.
func Load(path string) (*Config, error) { return LoadWith(path, Options{}) }

// LoadWith is Load with options.
func LoadWith(path string, o Options) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		fix := ""
		if errors.Is(err, fs.ErrNotExist) {
			fix = "create one with `openim-supervisor init --config " + path + "`, or point --config / $OPENIM_SUPERVISOR_CONFIG at yours"
		}
		return nil, Errors{&Error{File: path, Msg: "cannot read config: " + unwrapPathErr(err), Fix: fix}}
	}
	cfg, err := Parse(abs, data, o)
	if err != nil {
		return nil, err
	}
	if !o.SkipFileChecks {
		if errs := checkModes(cfg); len(errs) > 0 {
			return nil, errs
		}
	}
	return cfg, nil
}

func unwrapPathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// Parse is Load on content already read; file names it in errors and is the
// base for relative paths (the current directory when file is "").
func Parse(file string, data []byte, o Options) (*Config, error) {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg, line := err.Error(), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		return nil, Errors{&Error{File: file, Line: line, Msg: "not valid YAML: " + msg}}
	}
	if len(doc.Content) == 0 {
		return nil, Errors{&Error{File: file, Msg: "file is empty",
			Fix: "write a config, e.g. with `openim-supervisor init --force --config " + file + "`"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Errors{&Error{File: file, Line: root.Line, Msg: "want a mapping of keys at the top, got " + describeNode(root)}}
	}
	if err := checkVersion(file, root); err != nil {
		return nil, Errors{err}
	}

	base := filepath.Dir(file)
	if file == "" {
		base, _ = os.Getwd()
	}
	cfg := Default()
	cfg.Source = file

	// The env file's own name may only use the supervisor's environment.
	d := newDecoder(file, &expander{lookup: o.LookupEnv})
	if k, v := yamlnode.Find(root, "envFile"); v != nil {
		d.decode(v, reflect.ValueOf(&cfg.EnvFile).Elem(), "envFile")
		if len(d.errs) > 0 {
			return nil, d.errs
		}
		cfg.EnvFile = absIn(base, cfg.EnvFile)
		if cfg.EnvFile != "" {
			env, err := ReadEnvFile(cfg.EnvFile)
			if err != nil && o.SkipFileChecks {
				env, err = nil, nil
			}
			if err != nil {
				if errs, ok := err.(Errors); ok {
					return nil, errs
				}
				return nil, Errors{&Error{File: file, Line: k.Line, Key: "envFile",
					Msg: "cannot read env file: " + unwrapPathErr(err),
					Fix: "create it (KEY=VALUE lines, mode 0600), or remove the envFile line"}}
			}
			cfg.Env = env
		}
	}
	envFile := cfg.EnvFile

	d = newDecoder(file, &expander{envFile: envFile, file: cfg.Env, lookup: o.LookupEnv, lenient: o.SkipFileChecks})
	d.decode(root, reflect.ValueOf(cfg).Elem(), "")
	cfg.EnvFile = envFile
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	cfg.applyDefaults(d.keys, base)
	errs := cfg.validate(d.keys, o)
	sort.SliceStable(errs, func(i, j int) bool { return lineOf(errs[i]) < lineOf(errs[j]) })
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

func lineOf(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Line > 0 {
		return e.Line
	}
	return int(^uint(0) >> 1)
}

// Version reads the schema version of a config document without decoding the
// rest. A missing or malformed version is an *Error.
func Version(file string, data []byte) (int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return 0, &Error{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return 0, &Error{File: file, Msg: "want a mapping of keys at the top"}
	}
	return versionOf(file, doc.Content[0])
}

func versionOf(file string, root *yaml.Node) (int, error) {
	k, v := yamlnode.Find(root, "version")
	if v == nil {
		return 0, &Error{File: file, Line: 1, Key: "version", Msg: "missing; the file must say which schema it is written in",
			Fix: fmt.Sprintf("add \"version: %d\" as the first line if the file is written for this openim-supervisor", CurrentVersion)}
	}
	n, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || err != nil || n < 1 {
		return 0, &Error{File: file, Line: k.Line, Key: "version", Msg: "want a whole number >= 1, got " + describeNode(v)}
	}
	return n, nil
}

func checkVersion(file string, root *yaml.Node) error {
	n, err := versionOf(file, root)
	if err != nil {
		return err
	}
	k, _ := yamlnode.Find(root, "version")
	switch {
	case n < CurrentVersion:
		return &VersionError{Found: n, Current: CurrentVersion, Located: &Error{File: file, Line: k.Line, Key: "version",
			Msg: fmt.Sprintf("the file is written in schema version %d; this openim-supervisor reads version %d", n, CurrentVersion),
			Fix: "run `openim-supervisor config migrate --config " + file + "`: it rewrites the file to the current schema, keeping your values and comments, and leaves a backup"}}
	case n > CurrentVersion:
		return &VersionError{Found: n, Current: CurrentVersion, Located: &Error{File: file, Line: k.Line, Key: "version",
			Msg: fmt.Sprintf("the file is written in schema version %d, newer than this openim-supervisor understands (%d): the binary is too old", n, CurrentVersion),
			Fix: "upgrade openim-supervisor to the release that wrote this file"}}
	}
	return nil
}

// Default returns the built-in defaults: every setting the file may leave out,
// and no processes.
func Default() *Config {
	def := paths.OS()
	return &Config{
		Version: CurrentVersion,
		Paths: Paths{
			BinDir:          def.BinDir,
			OpenIMConfigDir: def.OpenIMConfigDir,
			LogDir:          def.LogDir,
			RuntimeDir:      def.RuntimeDir,
			StateDir:        def.StateDir,
		},
		Defaults: ProcessDefaults{
			Restart:     RestartAlways,
			StopSignal:  "TERM",
			StopTimeout: Duration(15 * time.Second),
			Ready: Ready{
				After:   0,
				Timeout: Duration(60 * time.Second),
			},
			Backoff: Backoff{
				Initial:     Duration(500 * time.Millisecond),
				Max:         Duration(30 * time.Second),
				StableAfter: Duration(time.Second),
				MaxFailures: 10,
				Window:      Duration(5 * time.Minute),
				Cooldown:    Duration(10 * time.Minute),
			},
		},
		Log: LogConfig{Target: LogAuto, MaxSize: 50 << 20, MaxFiles: 5, Buffer: 1000},
	}
}

// DefaultToolTimeout bounds a pre-start tool that sets no timeout. It covers
// OpenIM's check-component, the slowest tool: 180 tries, one a second plus
// the time a check of a component that is down takes (about 315 s in all
// when Kafka is down).
const DefaultToolTimeout = 6 * time.Minute

// ApplyDefaults fills in what a config built in code left out, as Load does
// for the keys a file leaves out; here a zero value counts as left out (so a
// process cannot override a non-zero default with zero). It is for configs
// that do not come from Load (tests, tools); Load applies defaults itself.
func (c *Config) ApplyDefaults() {
	c.applyDefaults(nil, "")
}

// applyDefaults is the one place defaults are applied. A setting is taken
// from defaults: when the file did not write its key (keys, from the
// decoder), or, for a config built in code (keys nil), when it is zero.
// Per-process settings inherit key by key (a process's ready: {tcp: ...}
// keeps the default timeout), instances default to 1, the socket sits in the
// runtime dir, tools get DefaultToolTimeout, and relative paths are taken
// relative to base (the config file's directory; "" leaves them as they are).
func (c *Config) applyDefaults(keys map[string]int, base string) {
	set := func(path string, zero bool) bool {
		if keys == nil {
			return !zero
		}
		_, ok := keys[path]
		return ok
	}
	p := &c.Paths
	for _, s := range []*string{&p.BinDir, &p.OpenIMConfigDir, &p.LogDir, &p.RuntimeDir, &p.StateDir, &p.Socket} {
		*s = absIn(base, *s)
	}
	if p.Socket == "" {
		p.Socket = paths.SocketIn(p.RuntimeDir)
	}
	d := c.Defaults
	for i := range c.Processes {
		pr := &c.Processes[i]
		at := fmt.Sprintf("processes[%d]", i)
		if !set(at+".instances", pr.Instances == 0) {
			pr.Instances = 1
		}
		if !set(at+".restart", pr.Restart == "") {
			pr.Restart = d.Restart
		}
		if !set(at+".stopSignal", pr.StopSignal == "") {
			pr.StopSignal = d.StopSignal
		}
		if !set(at+".stopTimeout", pr.StopTimeout == 0) {
			pr.StopTimeout = d.StopTimeout
		}
		pr.Ready = inherit(pr.Ready, d.Ready, at+".ready", set)
		pr.Backoff = inherit(pr.Backoff, d.Backoff, at+".backoff", set)
		if strings.ContainsAny(pr.Command, `/\`) {
			pr.Command = absIn(base, pr.Command)
		}
		pr.WorkDir = absIn(base, pr.WorkDir)
	}
	for i := range c.PreStart {
		t := &c.PreStart[i]
		if !set(fmt.Sprintf("preStart[%d].timeout", i), t.Timeout == 0) {
			t.Timeout = Duration(DefaultToolTimeout)
		}
		if strings.ContainsAny(t.Command, `/\`) {
			t.Command = absIn(base, t.Command)
		}
	}
}

// inherit returns a copy of def with the fields that were set (see
// applyDefaults) taken from own.
func inherit[T any](own *T, def T, path string, set func(string, bool) bool) *T {
	out := def
	if own == nil {
		return &out
	}
	ov, dv := reflect.ValueOf(own).Elem(), reflect.ValueOf(&out).Elem()
	for name, i := range yamlFields(dv.Type()) {
		if set(path+"."+name, ov.Field(i).IsZero()) {
			dv.Field(i).Set(ov.Field(i))
		}
	}
	return &out
}

func absIn(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// Redact replaces every env-file value of 4 or more characters in s with
// "***", for text about to be logged or shown (a child's error, a command line).
func (c *Config) Redact(s string) string {
	if len(c.Env) == 0 {
		return s
	}
	vals := make([]string, 0, len(c.Env))
	for _, v := range c.Env {
		if len(v) >= 4 {
			vals = append(vals, v)
		}
	}
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		s = strings.ReplaceAll(s, v, "***")
	}
	return s
}
