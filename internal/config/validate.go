package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/internal/paths"
)

// MaxInstances bounds one process's instance count.
const MaxInstances = 10000

// Validate checks a config built in code (Load validates on its own). It
// reports problems without line numbers and looks at the file system.
func (c *Config) Validate() error {
	return c.validate(nil, Options{}).err()
}

// checker collects validation problems, locating each key via the decoder's
// key lines (the nearest enclosing key that was written in the file).
type checker struct {
	file string
	keys map[string]int
	errs Errors
}

func (ck *checker) add(key, msg, fix string) {
	line := 0
	for p := key; p != ""; {
		if l, ok := ck.keys[p]; ok {
			line = l
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	ck.errs = append(ck.errs, &Error{File: ck.file, Line: line, Key: key, Msg: msg, Fix: fix})
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// Variables the supervisor takes out of every child's environment.
	reservedEnv = map[string]bool{"NOTIFY_SOCKET": true, "WATCHDOG_USEC": true, "WATCHDOG_PID": true}
)

func (c *Config) validate(keys map[string]int, o Options) Errors {
	ck := &checker{file: c.Source, keys: keys}
	if c.Version != CurrentVersion {
		ck.add("version", fmt.Sprintf("is %d; this openim-supervisor reads version %d", c.Version, CurrentVersion), "")
	}
	c.checkPaths(ck)
	c.checkDefaults(ck)

	if len(c.Processes) == 0 {
		ck.add("processes", "no processes to run", "list at least one under processes:, as in `openim-supervisor init`")
	}
	names := map[string]string{} // name -> key of first use
	ports := map[int]string{}    // port -> "name:index"
	needBinDir, needConfigDir := false, false
	for i, p := range c.Processes {
		at := fmt.Sprintf("processes[%d]", i)
		c.checkName(ck, at, p.Name, names)
		if p.Instances < 1 || p.Instances > MaxInstances {
			ck.add(at+".instances", fmt.Sprintf("is %d; want 1 to %d", p.Instances, MaxInstances),
				"remove the process, or write instances: 1 or more")
		}
		if p.Command == "" {
			needBinDir, needConfigDir = true, true
		}
		for j, port := range p.Ports {
			key := fmt.Sprintf("%s.ports[%d]", at, j)
			id := p.Name + ":" + strconv.Itoa(j)
			switch {
			case port < 1 || port > 65535:
				ck.add(key, fmt.Sprintf("%d is not a TCP port (1-65535)", port), "")
			case ports[port] != "":
				ck.add(key, fmt.Sprintf("port %d is also given to %s", port, ports[port]), "give each instance its own port")
			default:
				ports[port] = id
			}
		}
		if len(p.Ports) > 0 && len(p.Ports) < p.Instances {
			ck.add(at+".ports", fmt.Sprintf("%d ports for %d instances", len(p.Ports), p.Instances),
				"list one port per instance (element i is instance i's)")
		}
		if len(p.Ports) == 0 {
			uses := map[string]string{}
			for j, a := range p.Args {
				uses[fmt.Sprintf("%s.args[%d]", at, j)] = a
			}
			if p.Ready != nil {
				uses[at+".ready.tcp"], uses[at+".ready.http"] = p.Ready.TCP, p.Ready.HTTP
				uses[at+".ready.grpc"], uses[at+".ready.openimAPI"] = p.Ready.GRPC, p.Ready.OpenIMAPI
			}
			for key, v := range uses {
				if strings.Contains(v, "{port}") {
					ck.add(key, "{port} is used but the process lists no ports", "add ports: [one per instance]")
				}
			}
		}
		if p.Ready != nil {
			checkReady(ck, at+".ready", *p.Ready, p.Ports)
		}
		if _, set := keys[at+".stopTimeout"]; set && p.StopTimeout <= 0 {
			ck.add(at+".stopTimeout", "must be more than 0", "e.g. 15s; after it the process group is killed")
		}
		if p.Backoff != nil {
			checkBackoff(ck, at+".backoff", *p.Backoff)
		}
		checkPolicy(ck, at, p.Restart, p.StopSignal)
		checkEnvNames(ck, at+".env", p.Env)
		if !o.SkipFileChecks {
			if p.Command != "" {
				checkExecutable(ck, at+".command", p.Command)
			}
			if p.WorkDir != "" {
				checkDir(ck, at+".workDir", p.WorkDir, "create it or fix workDir")
			}
		}
	}

	toolNames := map[string]string{}
	for i, t := range c.PreStart {
		at := fmt.Sprintf("preStart[%d]", i)
		c.checkName(ck, at, t.Name, toolNames)
		if t.Timeout <= 0 {
			ck.add(at+".timeout", "must be more than 0", "")
		}
		if t.Command == "" {
			needBinDir, needConfigDir = true, true
		} else if !o.SkipFileChecks {
			checkExecutable(ck, at+".command", t.Command)
		}
	}

	if !o.SkipFileChecks {
		binDirOK := !needBinDir || checkDir(ck, "paths.binDir", c.Paths.BinDir,
			"install OpenIM's binaries there, or set paths.binDir to where they are")
		if needConfigDir {
			checkDir(ck, "paths.openimConfigDir", c.Paths.OpenIMConfigDir,
				"put OpenIM's config directory (share.yml, openim-*.yml, ...) there, or set paths.openimConfigDir")
		}
		if needBinDir && binDirOK {
			for i, p := range c.Processes {
				if p.Command == "" {
					checkExecutable(ck, fmt.Sprintf("processes[%d].name", i), paths.Executable(c.Paths.BinDir, p.Name))
				}
			}
			for i, t := range c.PreStart {
				if t.Command == "" {
					checkExecutable(ck, fmt.Sprintf("preStart[%d].name", i), paths.Executable(c.Paths.BinDir, t.Name))
				}
			}
		}
	}
	return ck.errs
}

func checkEnvNames(ck *checker, at string, env map[string]string) {
	for k := range env {
		switch {
		case !validEnvName(k):
			ck.add(at+"."+k, "not a valid variable name", "use letters, digits and _, not starting with a digit")
		case reservedEnv[k]:
			ck.add(at+"."+k, "is set by the supervisor for itself and removed from every child's environment", "remove it")
		}
	}
}

func (c *Config) checkName(ck *checker, at, name string, seen map[string]string) {
	switch {
	case name == "":
		ck.add(at+".name", "missing", "every entry needs a name")
	case !nameRE.MatchString(name):
		ck.add(at+".name", fmt.Sprintf("%q is not a valid name", name),
			"use letters, digits, '.', '_' and '-' (it names log files and is used as NAME:INDEX)")
	case name == "all":
		ck.add(at+".name", `"all" is reserved (it means every process in start, stop and restart)`, "pick another name")
	case seen[name] != "":
		ck.add(at+".name", fmt.Sprintf("%q is used twice (also %s)", name, seen[name]), "names must be unique")
	default:
		seen[name] = at
	}
}

func (c *Config) checkPaths(ck *checker) {
	p := c.Paths
	for _, f := range []struct{ key, val string }{
		{"paths.binDir", p.BinDir}, {"paths.openimConfigDir", p.OpenIMConfigDir}, {"paths.logDir", p.LogDir},
		{"paths.runtimeDir", p.RuntimeDir}, {"paths.stateDir", p.StateDir},
	} {
		if f.val == "" {
			ck.add(f.key, "is empty", "remove the line to use the default, or give a directory")
		}
	}
}

func (c *Config) checkDefaults(ck *checker) {
	checkPolicy(ck, "defaults", c.Defaults.Restart, c.Defaults.StopSignal)
	if c.Defaults.StopTimeout <= 0 {
		ck.add("defaults.stopTimeout", "must be more than 0", "e.g. 15s; after it the process group is killed")
	}
	checkReady(ck, "defaults.ready", c.Defaults.Ready, nil)
	checkBackoff(ck, "defaults.backoff", c.Defaults.Backoff)
	checkEnvNames(ck, "defaults.env", c.Defaults.Env)
	l := c.Log
	if err := new(LogTarget).parse(string(l.Target)); err != nil {
		ck.add("log.target", err.Error(), "")
	}
	if l.MaxSize < 4096 {
		ck.add("log.maxSize", fmt.Sprintf("%s is too small", l.MaxSize), "use at least 4KiB, e.g. 50MiB")
	}
	if l.MaxFiles < 1 {
		ck.add("log.maxFiles", fmt.Sprintf("is %d; keep at least 1 rotated file", l.MaxFiles), "")
	}
	if l.Buffer < 0 {
		ck.add("log.buffer", "must be 0 or more", "")
	}
	if m := c.Metrics; m.Listen != "" {
		host, port, err := net.SplitHostPort(m.Listen)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || n < 0 || n > 65535:
			ck.add("metrics.listen", fmt.Sprintf("%q is not host:port", m.Listen), "e.g. 127.0.0.1:9464")
		case !m.AllowRemote && !isLoopback(host):
			ck.add("metrics.listen", fmt.Sprintf("%q is reachable from other machines", m.Listen),
				"listen on 127.0.0.1 or [::1], or set metrics.allowRemote: true")
		}
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkPolicy checks a restart policy and stop signal; for a process, "" means
// "the default" (configs built in code).
func checkPolicy(ck *checker, at string, r RestartPolicy, s Signal) {
	isProcess := at != "defaults"
	if err := new(RestartPolicy).parse(string(r)); err != nil && !(isProcess && r == "") {
		ck.add(at+".restart", err.Error(), "")
	}
	if isProcess && s == "" {
		return
	}
	if err := new(Signal).parse(string(s)); err != nil || strings.ToUpper(string(s)) != string(s) {
		ck.add(at+".stopSignal", fmt.Sprintf("%q is not a stop signal; use one of %s", s, joinSignals()), "")
	}
}

func checkReady(ck *checker, at string, r Ready, ports []int) {
	port := "1"
	if len(ports) > 0 {
		port = strconv.Itoa(ports[0])
	}
	subst := strings.NewReplacer("{index}", "0", "{port}", port)
	for _, a := range []struct{ key, val string }{{".tcp", r.TCP}, {".grpc", r.GRPC}} {
		if a.val == "" {
			continue
		}
		host, pt, err := net.SplitHostPort(subst.Replace(a.val))
		if _, perr := strconv.Atoi(pt); err != nil || perr != nil || host == "" {
			ck.add(at+a.key, fmt.Sprintf("%q is not host:port", a.val), "e.g. 127.0.0.1:{port}")
		}
	}
	for _, a := range []struct{ key, val, eg string }{
		{".http", r.HTTP, "http://127.0.0.1:{port}/healthz"}, {".openimAPI", r.OpenIMAPI, "http://127.0.0.1:{port}"},
	} {
		if a.val == "" {
			continue
		}
		u, err := url.Parse(subst.Replace(a.val))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ck.add(at+a.key, fmt.Sprintf("%q is not an http:// or https:// URL", a.val), "e.g. "+a.eg)
		}
	}
	if r.HasCheck() && r.Timeout <= 0 {
		ck.add(at+".timeout", "must be more than 0 when a check is set", "e.g. 60s")
	}
}

func checkBackoff(ck *checker, at string, b Backoff) {
	if b.Initial <= 0 {
		ck.add(at+".initial", "must be more than 0", "e.g. 500ms")
	}
	if b.Max < b.Initial {
		ck.add(at+".max", fmt.Sprintf("%s is less than initial (%s)", b.Max, b.Initial), "")
	}
	if b.StableAfter <= 0 {
		ck.add(at+".stableAfter", "must be more than 0", "e.g. 30s")
	}
	if b.MaxFailures < 1 {
		ck.add(at+".maxFailures", fmt.Sprintf("is %d; want 1 or more", b.MaxFailures), "")
	}
	if b.Window <= 0 {
		ck.add(at+".window", "must be more than 0", "e.g. 5m")
	}
	if b.Cooldown <= 0 {
		ck.add(at+".cooldown", "must be more than 0", "e.g. 10m")
	}
}

// checkDir reports whether dir is an existing directory, adding a problem if not.
func checkDir(ck *checker, key, dir, fix string) bool {
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		ck.add(key, fmt.Sprintf("directory %s: %s", dir, unwrapPathErr(err)), fix)
	case !st.IsDir():
		ck.add(key, dir+" is not a directory", fix)
	default:
		return true
	}
	return false
}

// checkExecutable adds a problem unless path is an executable file (a bare
// name is looked up in PATH, as exec.Command does).
func checkExecutable(ck *checker, key, path string) {
	if !strings.ContainsAny(path, `/\`) {
		if _, err := exec.LookPath(path); err != nil {
			ck.add(key, fmt.Sprintf("program %q is not in PATH", path), "give its full path, or install it")
		}
		return
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		ck.add(key, fmt.Sprintf("binary %s: %s", path, unwrapPathErr(err)),
			"install it, or fix paths.binDir / command")
	case st.IsDir():
		ck.add(key, fmt.Sprintf("binary %s is a directory", path), "")
	case !paths.IsExecutable(st):
		ck.add(key, fmt.Sprintf("binary %s is not executable", path), "chmod +x it")
	}
}
