// Package doctor checks an installation for the failures OpenIM operators
// report most, and names for each the cause and the fix: a component that
// is down or refuses the credentials (MongoDB, Redis, Kafka topics, etcd,
// object storage), an external address left at localhost, the default
// secret, too few open files, ports taken by another program, disk space,
// clock skew, binaries, config and data of different versions, and the
// supervisor's config disagreeing with OpenIM's.
//
// Each check is a small unit behind Check; Run runs them in order over one
// Env. Findings never carry a secret value.
package doctor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// Status of one finding.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn" // worth fixing; OpenIM works
	Fail Status = "fail" // OpenIM fails, or will
	Skip Status = "skip" // could not be checked (says why)
)

// Finding is one result of a check.
type Finding struct {
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Subject is what was looked at ("MongoDB 10.0.0.5:37017", "port 10002").
	Subject string `json:"subject"`
	// Cause says what is wrong (or, for ok, what was found).
	Cause string `json:"cause,omitempty"`
	// Fix says what to do.
	Fix string `json:"fix,omitempty"`
}

// Check is one unit of doctor.
type Check interface {
	// Name is the check's short name (the "check" of its findings).
	Name() string
	// Run looks at e and reports; it must honour ctx and never return a
	// secret's value.
	Run(ctx context.Context, e *Env) []Finding
}

// Env is what the checks look at, gathered once.
type Env struct {
	Info buildinfo.Info

	// ConfigPath is the supervisor's config; Config is nil when it did not
	// load (ConfigErr says why) and Lenient is then the same file loaded
	// without file checks, when that works.
	ConfigPath string
	Config     *config.Config
	ConfigErr  error
	Lenient    *config.Config

	// OpenIM is OpenIM's config dir with the env file's IMENV_ overrides
	// (nil when it did not load: OpenIMErr); Typed is its typed view.
	OpenIM    *openimconf.Dir
	Typed     *openimconf.Config
	OpenIMErr error

	// Status is the running supervisor's status, nil when none answers.
	Status *control.StatusReply

	// Timeout bounds each network probe (default 3s).
	Timeout time.Duration
	// Now is the clock (tests).
	Now func() time.Time

	mu    sync.Mutex
	times []serverTime
}

// Cfg is the supervisor config to use: the loaded one, else the lenient one
// (may be nil).
func (e *Env) Cfg() *config.Config {
	if e.Config != nil {
		return e.Config
	}
	return e.Lenient
}

// serverTime is a component's clock, read by a component check for the
// clock check.
type serverTime struct {
	source string
	at     time.Time     // the component's time
	local  time.Time     // our time when the answer came
	rtt    time.Duration // round trip of the request
}

func (e *Env) noteTime(source string, at time.Time, sent time.Time) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.times = append(e.times, serverTime{source: source, at: at, local: now, rtt: now.Sub(sent)})
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) timeout() time.Duration {
	if e.Timeout > 0 {
		return e.Timeout
	}
	return 3 * time.Second
}

// Report is the outcome of Run.
type Report struct {
	Findings []Finding `json:"findings"`
	Failed   int       `json:"failed"`
	Warned   int       `json:"warned"`
}

// Run runs checks in order and collects their findings.
func Run(ctx context.Context, e *Env, checks []Check) Report {
	var r Report
	for _, c := range checks {
		if ctx.Err() != nil {
			r.Findings = append(r.Findings, Finding{Check: c.Name(), Status: Skip, Subject: c.Name(), Cause: ctx.Err().Error()})
			continue
		}
		for _, f := range c.Run(ctx, e) {
			f.Check = c.Name()
			switch f.Status {
			case Fail:
				r.Failed++
			case Warn:
				r.Warned++
			}
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

// Checks is every check, in the order doctor runs them (clock last: it
// uses the times the component checks read).
func Checks() []Check {
	return []Check{
		supervisorConfig{}, openimConfig{}, agreement{}, secretFiles{},
		defaultSecret{}, externalAddress{},
		mongoCheck{}, redisCheck{}, kafkaCheck{}, etcdCheck{}, objectStorage{},
		versions{}, openFiles{}, ports{}, disk{}, clock{},
	}
}

// Names lists the check names (for --check and the docs).
func Names() []string {
	var out []string
	for _, c := range Checks() {
		out = append(out, c.Name())
	}
	return out
}

// skip is the finding of a check that needs what is missing.
func skip(subject, why string) []Finding {
	return []Finding{{Status: Skip, Subject: subject, Cause: why}}
}

// needOpenIM returns the typed OpenIM config, or a skip finding.
func needOpenIM(e *Env, subject string) (*openimconf.Config, []Finding) {
	if e.Typed == nil {
		return nil, skip(subject, "OpenIM's config dir did not load (see openim-config)")
	}
	return e.Typed, nil
}

func ok(subject, what string, a ...any) Finding {
	return Finding{Status: OK, Subject: subject, Cause: fmt.Sprintf(what, a...)}
}
