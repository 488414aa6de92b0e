package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/paths"
)

// Instance is one resolved instance of a process: everything needed to run it.
// Instances are plain values; comparing two (Equal) tells a reload whether the
// instance changed.
type Instance struct {
	Process string // process name
	Index   int    // 0-based instance index

	Path string   // executable
	Args []string // arguments, without argv[0]
	// Env are KEY=VALUE additions (env file first, then the process's env).
	// The child's environment is the supervisor's own, filtered, plus these.
	Env []string
	Dir string // working directory ("" = the supervisor's)
	// Barrier: processes after this one's start only once it is ready.
	Barrier bool

	Restart     RestartPolicy
	StopSignal  Signal
	StopTimeout time.Duration
	Ready       ResolvedReady
	Backoff     Backoff
}

// ResolvedReady is Ready with {port} and {index} substituted.
type ResolvedReady struct {
	After     time.Duration
	TCP       string
	HTTP      string
	GRPC      string
	OpenIMAPI string
	Timeout   time.Duration
}

// HasCheck reports whether a check besides After is set.
func (r ResolvedReady) HasCheck() bool {
	return r.TCP != "" || r.HTTP != "" || r.GRPC != "" || r.OpenIMAPI != ""
}

// ID is "name:index", the name used by the control commands.
func (i Instance) ID() string { return i.Process + ":" + strconv.Itoa(i.Index) }

// Equal reports whether two instances would run identically.
func (i Instance) Equal(o Instance) bool {
	return i.Process == o.Process && i.Index == o.Index && i.Path == o.Path &&
		equalStrings(i.Args, o.Args) && equalStrings(i.Env, o.Env) && i.Dir == o.Dir &&
		i.Restart == o.Restart && i.StopSignal == o.StopSignal && i.StopTimeout == o.StopTimeout &&
		i.Ready == o.Ready && i.Backoff == o.Backoff && i.Barrier == o.Barrier
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// ToolSpec is one resolved pre-start tool. It is stopped like a process
// (StopSignal, then KILL after StopTimeout), with the defaults' settings.
type ToolSpec struct {
	Name        string
	Path        string
	Args        []string
	Env         []string
	Timeout     time.Duration
	StopSignal  Signal
	StopTimeout time.Duration
}

// Instances returns every instance of every process, in start order.
// Defaults must have been applied (Load, or ApplyDefaults for a config
// built in code): this only resolves, it fills nothing in.
func (c *Config) Instances() []Instance {
	var out []Instance
	for _, p := range c.Processes {
		for idx := 0; idx < p.Instances; idx++ {
			out = append(out, c.instance(p, idx))
		}
	}
	return out
}

// Tools returns the resolved pre-start tools in order.
func (c *Config) Tools() []ToolSpec {
	out := make([]ToolSpec, 0, len(c.PreStart))
	for _, t := range c.PreStart {
		path, args := t.Command, t.Args
		if path == "" {
			path = paths.Executable(c.Paths.BinDir, t.Name)
			if args == nil {
				args = []string{"-c", c.Paths.OpenIMConfigDir}
			}
		}
		out = append(out, ToolSpec{Name: t.Name, Path: path, Args: append([]string(nil), args...),
			Env: c.envList(nil), Timeout: t.Timeout.D(),
			StopSignal: c.Defaults.StopSignal, StopTimeout: c.Defaults.StopTimeout.D()})
	}
	return out
}

func (c *Config) instance(p Process, idx int) Instance {
	port := ""
	if idx < len(p.Ports) {
		port = strconv.Itoa(p.Ports[idx])
	}
	subst := strings.NewReplacer("{index}", strconv.Itoa(idx), "{port}", port)

	path := p.Command
	var args []string
	if path == "" {
		path = paths.Executable(c.Paths.BinDir, p.Name)
		args = []string{"-i", strconv.Itoa(idx), "-c", c.Paths.OpenIMConfigDir}
		for _, a := range p.Args { // extra args after the standard ones
			args = append(args, subst.Replace(a))
		}
	} else {
		for _, a := range p.Args {
			args = append(args, subst.Replace(a))
		}
	}

	var ready Ready
	if p.Ready != nil {
		ready = *p.Ready
	}
	var backoff Backoff
	if p.Backoff != nil {
		backoff = *p.Backoff
	}
	return Instance{
		Process:     p.Name,
		Index:       idx,
		Path:        path,
		Args:        args,
		Env:         c.envList(p.Env),
		Dir:         p.WorkDir,
		Barrier:     p.Barrier,
		Restart:     p.Restart,
		StopSignal:  p.StopSignal,
		StopTimeout: p.StopTimeout.D(),
		Ready: ResolvedReady{
			After:     ready.After.D(),
			TCP:       subst.Replace(ready.TCP),
			HTTP:      subst.Replace(ready.HTTP),
			GRPC:      subst.Replace(ready.GRPC),
			OpenIMAPI: subst.Replace(ready.OpenIMAPI),
			Timeout:   ready.Timeout.D(),
		},
		Backoff: backoff,
	}
}

// envList returns defaults.env, then the env file's variables, then the
// process's (later entries win in exec), sorted by key within each group so
// that Equal is stable.
func (c *Config) envList(extra map[string]string) []string {
	var out []string
	for _, m := range []map[string]string{c.Defaults.Env, c.Env, extra} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, fmt.Sprintf("%s=%s", k, m[k]))
		}
	}
	return out
}
