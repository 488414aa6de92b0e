package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// errFindings turns located config errors into findings, one each, the
// fix taken out of the message.
func errFindings(status Status, subject string, err error) []Finding {
	var es config.Errors
	if !errors.As(err, &es) {
		return []Finding{{Status: status, Subject: subject, Cause: err.Error()}}
	}
	var out []Finding
	for _, e := range es {
		var ce *config.Error
		if errors.As(e, &ce) {
			fix := ce.Fix
			c := *ce
			c.Fix = ""
			sub := subject
			if c.File != "" {
				sub = c.File
				if c.Line > 0 {
					sub += ":" + strconv.Itoa(c.Line)
				}
				c.File, c.Line = "", 0
			}
			out = append(out, Finding{Status: status, Subject: sub, Cause: c.Error(), Fix: fix})
			continue
		}
		out = append(out, Finding{Status: status, Subject: subject, Cause: e.Error()})
	}
	return out
}

// supervisorConfig: the supervisor's own config loads as `run` loads it
// (strict keys, binaries present, file modes).
type supervisorConfig struct{}

func (supervisorConfig) Name() string { return "config" }

func (supervisorConfig) Run(_ context.Context, e *Env) []Finding {
	if e.ConfigErr != nil {
		return errFindings(Fail, e.ConfigPath, e.ConfigErr)
	}
	return []Finding{ok(e.ConfigPath, "loads (schema %d, %d processes)", e.Config.Version, len(e.Config.Processes))}
}

// openimConfig: OpenIM's config dir as OpenIM 3.8.3 would load it.
type openimConfig struct{}

func (openimConfig) Name() string { return "openim-config" }

func (openimConfig) Run(_ context.Context, e *Env) []Finding {
	if e.OpenIM == nil {
		if e.OpenIMErr == nil {
			return skip("OpenIM config", "no supervisor config to find it from")
		}
		return errFindings(Fail, "OpenIM config", e.OpenIMErr)
	}
	r := openimconf.Check(e.OpenIM, openimconf.CheckOptions{})
	out := errFindings(Fail, e.OpenIM.Path, r.Errors)
	if len(r.Errors) == 0 {
		out = nil
	}
	if len(r.Warnings) > 0 {
		out = append(out, errFindings(Warn, e.OpenIM.Path, r.Warnings)...)
	}
	if len(out) == 0 {
		out = []Finding{ok(e.OpenIM.Path, "%d files load as OpenIM %s reads them", len(e.OpenIM.Files), openimconf.Version)}
	}
	return out
}

// agreement: the supervisor's processes against OpenIM's port lists
// (instances beyond a list fail with "index out of range"; ports: that
// differ from OpenIM's make the readiness check watch the wrong port).
type agreement struct{}

func (agreement) Name() string { return "agreement" }

func (agreement) Run(_ context.Context, e *Env) []Finding {
	cfg := e.Cfg()
	if cfg == nil || e.OpenIM == nil {
		return skip("supervisor config vs OpenIM's", "needs both configs to load")
	}
	var progs []openimconf.Program
	for _, p := range cfg.Processes {
		progs = append(progs, openimconf.Program{Name: p.Name, Custom: p.Command != "", Instances: p.Instances,
			Ports: p.Ports, Env: p.Env, File: cfg.Source, GRPC: p.Ready.GRPC != ""})
	}
	if errs := openimconf.CheckPrograms(e.OpenIM, progs); len(errs) > 0 {
		return errFindings(Fail, "supervisor config vs OpenIM's", errs)
	}
	var missing []string
	have := map[string]bool{}
	for _, p := range cfg.Processes {
		have[p.Name] = true
	}
	for _, s := range openimconf.Services() {
		if !have[s.Name] {
			missing = append(missing, s.Name)
		}
	}
	if len(missing) > 0 {
		return []Finding{{Status: Warn, Subject: cfg.Source, Cause: "runs no " + strings.Join(missing, ", ") +
			": OpenIM " + openimconf.Version + " needs all 12 services", Fix: "add them under processes: (see `openim-supervisor init --config /tmp/example.yaml`)"}}
	}
	return []Finding{ok("supervisor config vs OpenIM's", "instances and ports agree with OpenIM's port lists")}
}

// secretFiles: OpenIM's yml files that hold a password, readable by every
// user. A warning, not a refusal: OpenIM reads them itself; the env file
// (checked by config) is where secrets belong.
type secretFiles struct{}

func (secretFiles) Name() string { return "secret-files" }

func (secretFiles) Run(_ context.Context, e *Env) []Finding {
	if e.OpenIM == nil {
		return skip("OpenIM config files", "OpenIM's config dir did not load")
	}
	var names []string
	for name := range e.OpenIM.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Finding
	for _, name := range names {
		f := e.OpenIM.Files[name]
		secret := ""
		for _, l := range e.OpenIM.Leaves(f) {
			if isSecretKey(l.Key) && l.Node != nil && l.Node.Value != "" {
				secret = l.Key
				break
			}
		}
		if secret == "" {
			continue
		}
		st, err := os.Stat(f.Path)
		if err != nil || st.Mode().Perm()&0o004 == 0 {
			continue
		}
		out = append(out, Finding{Status: Warn, Subject: f.Path,
			Cause: fmt.Sprintf("has mode %04o and a value for %s: every user of this machine can read it", st.Mode().Perm(), secret),
			Fix: fmt.Sprintf("chmod 0640 %s and chgrp it to the service's group, or move the value to the env file as %s",
				f.Path, openimconf.EnvVar(name, secret))})
	}
	if len(out) == 0 {
		return []Finding{ok(e.OpenIM.Path, "no yml file with a password is readable by every user")}
	}
	return out
}

// isSecretKey reports whether a dotted key names a secret value.
func isSecretKey(key string) bool {
	k := strings.ToLower(key[strings.LastIndex(key, ".")+1:])
	for _, s := range []string{"password", "secret", "pwd", "token", "accesskeysecret", "secretkey"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// IsSecretKey is isSecretKey for the support bundle's redaction.
func IsSecretKey(key string) bool { return isSecretKey(key) }
