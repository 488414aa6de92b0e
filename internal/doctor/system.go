package doctor

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// MinOpenFiles is OpenIM's maxFileDescriptors (start-config.yml): its
// services fail under load below it.
const MinOpenFiles = 10000

// openFiles: the open-file limit the OpenIM processes get (read from a
// running instance, else the supervisor, else this shell's, which `run`
// started from here would pass on).
type openFiles struct{}

func (openFiles) Name() string { return "open-files" }

func (openFiles) Run(_ context.Context, e *Env) []Finding {
	var pids []int
	whose := map[int]string{}
	if e.Status != nil {
		for _, s := range e.Status.Instances {
			if s.PID > 0 {
				pids = append(pids, s.PID)
				whose[s.PID] = s.ID()
				break
			}
		}
		if e.Status.Supervisor.PID > 0 {
			pids = append(pids, e.Status.Supervisor.PID)
			whose[e.Status.Supervisor.PID] = "the supervisor"
		}
	}
	soft, who, err := nofileOf(pids, whose)
	if err != nil {
		return skip("open files", err.Error())
	}
	subject := "open files (" + who + ")"
	if soft < MinOpenFiles {
		return []Finding{{Status: Fail, Subject: subject,
			Cause: fmt.Sprintf("the limit is %d, below OpenIM's %d: msggateway and msgtransfer fail with \"too many open files\" under load", soft, MinOpenFiles),
			Fix:   "under systemd the unit sets LimitNOFILE=100000 (systemctl cat openim-server); in a shell run `ulimit -n 100000` before `openim-supervisor run`, or raise nofile in /etc/security/limits.conf"}}
	}
	return []Finding{ok(subject, "limit %d (OpenIM needs %d)", soft, MinOpenFiles)}
}

// servicePorts lists the ports each instance of an OpenIM service listens
// on, from OpenIM's port lists indexed by -i (prometheus only when enabled).
func servicePorts(c *openimconf.Config, name string, index int) []int {
	var lists [][]int
	prom := func(p openimconf.Prometheus) {
		if p.Enable {
			lists = append(lists, p.Ports)
		}
	}
	switch name {
	case "openim-api":
		lists = append(lists, c.API.Api.Ports)
		if c.API.Prometheus.Enable {
			lists = append(lists, c.API.Prometheus.Ports)
		}
	case "openim-msggateway":
		lists = append(lists, c.MsgGateway.LongConnSvr.Ports, c.MsgGateway.RPC.Ports)
		prom(c.MsgGateway.Prometheus)
	case "openim-msgtransfer":
		prom(c.MsgTransfer.Prometheus)
	case "openim-push":
		lists = append(lists, c.Push.RPC.Ports)
		prom(c.Push.Prometheus)
	case "openim-rpc-auth":
		lists = append(lists, c.Auth.RPC.Ports)
		prom(c.Auth.Prometheus)
	case "openim-rpc-conversation":
		lists = append(lists, c.Conversation.RPC.Ports)
		prom(c.Conversation.Prometheus)
	case "openim-rpc-friend":
		lists = append(lists, c.Friend.RPC.Ports)
		prom(c.Friend.Prometheus)
	case "openim-rpc-group":
		lists = append(lists, c.Group.RPC.Ports)
		prom(c.Group.Prometheus)
	case "openim-rpc-msg":
		lists = append(lists, c.Msg.RPC.Ports)
		prom(c.Msg.Prometheus)
	case "openim-rpc-third":
		lists = append(lists, c.Third.RPC.Ports)
		prom(c.Third.Prometheus)
	case "openim-rpc-user":
		lists = append(lists, c.User.RPC.Ports)
		prom(c.User.Prometheus)
	}
	var out []int
	for _, l := range lists {
		if index < len(l) && l[index] > 0 {
			out = append(out, l[index])
		}
	}
	return out
}

// ports: every port an OpenIM instance will listen on must be free, or
// held by that instance itself (a running supervisor's).
type ports struct{}

func (ports) Name() string { return "ports" }

func (ports) Run(_ context.Context, e *Env) []Finding {
	cfg := e.Cfg()
	c, sk := needOpenIM(e, "ports")
	if c == nil {
		return sk
	}
	if cfg == nil {
		return skip("ports", "the supervisor config did not load")
	}
	ours := map[int]string{} // pid -> instance
	if e.Status != nil {
		for _, s := range e.Status.Instances {
			if s.PID > 0 {
				ours[s.PID] = s.ID()
			}
		}
	}
	type want struct {
		port int
		id   string
	}
	var wants []want
	for _, p := range cfg.Processes {
		if p.Command != "" {
			continue
		}
		for i := 0; i < p.Instances; i++ {
			for _, port := range servicePorts(c, p.Name, i) {
				wants = append(wants, want{port, p.Name + ":" + strconv.Itoa(i)})
			}
		}
	}
	if cfg.Metrics.Listen != "" {
		if _, ps, err := net.SplitHostPort(cfg.Metrics.Listen); err == nil {
			if n, err := strconv.Atoi(ps); err == nil && n > 0 {
				wants = append(wants, want{n, "openim-supervisor metrics"})
			}
		}
	}
	sort.SliceStable(wants, func(i, j int) bool { return wants[i].port < wants[j].port })
	var out []Finding
	checked := 0
	for _, w := range wants {
		if !portTaken(w.port) {
			checked++
			continue
		}
		owner := portOwner(w.port)
		if owner.pid > 0 && (ours[owner.pid] == w.id || ours[owner.parent] == w.id ||
			(e.Status != nil && (owner.pid == e.Status.Supervisor.PID))) {
			checked++
			continue // held by the instance that should hold it
		}
		who := "another program"
		if owner.pid > 0 {
			who = fmt.Sprintf("pid %d (%s)", owner.pid, owner.name)
			if id, ok := ours[owner.pid]; ok {
				who += ", our " + id
			}
		}
		out = append(out, Finding{Status: Fail, Subject: fmt.Sprintf("port %d", w.port),
			Cause: fmt.Sprintf("%s needs it and %s holds it: %s fails to start with \"address already in use\"", w.id, who, w.id),
			Fix:   fmt.Sprintf("stop that program (ss -ltnp 'sport = :%d' shows it), or give %s another port in OpenIM's config (and in the supervisor's ports: when it has one)", w.port, w.id)})
	}
	if len(out) == 0 {
		return []Finding{ok("ports", "%d ports of the OpenIM instances are free or held by their own instance", checked)}
	}
	return out
}

// portTaken reports whether something listens on the TCP port (any address).
func portTaken(port int) bool {
	for _, host := range []string{"0.0.0.0", "::"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			continue
		}
		if host == "::" && strings.Contains(err.Error(), "address family not supported") {
			continue
		}
		return true
	}
	return false
}

// disk: free space where the supervisor writes (state: backups and
// upgrades; logs).
type disk struct{}

func (disk) Name() string { return "disk" }

// Disk thresholds: below MinFreeBytes or MinFreePercent fails, below twice
// that warns.
const (
	MinFreeBytes   = 1 << 30
	MinFreePercent = 5
)

func (disk) Run(_ context.Context, e *Env) []Finding {
	cfg := e.Cfg()
	if cfg == nil {
		return skip("disk", "the supervisor config did not load")
	}
	var out []Finding
	seen := map[string]bool{}
	for _, d := range []string{cfg.Paths.StateDir, cfg.Paths.LogDir} {
		dir := existingParent(d)
		if dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		free, total, err := diskSpace(dir)
		if err != nil {
			out = append(out, Finding{Status: Skip, Subject: d, Cause: err.Error()})
			continue
		}
		pct := 100 * float64(free) / float64(max(total, 1))
		f := ok(d, "%s free of %s (%.0f%%)", bytesHuman(free), bytesHuman(total), pct)
		switch {
		case free < MinFreeBytes || pct < MinFreePercent:
			f = Finding{Status: Fail, Subject: d, Cause: fmt.Sprintf("only %s free (%.1f%%): logs stop, and an upgrade's backup cannot be written", bytesHuman(free), pct),
				Fix: "free space (old logs, old backups in " + cfg.Paths.StateDir + "/upgrade), or grow the file system"}
		case free < 2*MinFreeBytes || pct < 2*MinFreePercent:
			f.Status, f.Cause = Warn, fmt.Sprintf("%s free (%.1f%%), little room for logs and upgrade backups", bytesHuman(free), pct)
			f.Fix = "free some space before the next upgrade"
		}
		out = append(out, f)
	}
	return out
}

func bytesHuman(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// clock: our clock against the components' (read by their checks). OpenIM
// tokens and message times go wrong across machines whose clocks disagree.
type clock struct{}

func (clock) Name() string { return "clock" }

// Clock skew thresholds.
const (
	WarnSkew = 2 * time.Second
	FailSkew = 30 * time.Second
)

func (clock) Run(_ context.Context, e *Env) []Finding {
	e.mu.Lock()
	times := append([]serverTime(nil), e.times...)
	e.mu.Unlock()
	if len(times) == 0 {
		return skip("clock", "no component answered with its time (MongoDB hello, Redis TIME)")
	}
	var out []Finding
	for _, t := range times {
		// The server read its clock somewhere within the round trip.
		skew := t.local.Add(-t.rtt / 2).Sub(t.at)
		if skew < 0 {
			skew = -skew
		}
		slack := t.rtt/2 + time.Second // Redis TIME has µs, Mongo's localTime ms; allow for the trip
		subject := "clock vs " + t.source
		switch {
		case skew > FailSkew+slack:
			out = append(out, Finding{Status: Fail, Subject: subject,
				Cause: fmt.Sprintf("this machine's clock is %v off %s's: tokens and message times go wrong", skew.Round(time.Second), t.source),
				Fix:   "run time synchronisation on every machine (timedatectl set-ntp true; chronyc tracking)"})
		case skew > WarnSkew+slack:
			out = append(out, Finding{Status: Warn, Subject: subject,
				Cause: fmt.Sprintf("this machine's clock is %v off %s's", skew.Round(100*time.Millisecond), t.source),
				Fix:   "run time synchronisation on every machine (timedatectl set-ntp true)"})
		default:
			out = append(out, ok(subject, "within %v", (skew+time.Millisecond).Round(time.Millisecond)))
		}
	}
	return out
}
