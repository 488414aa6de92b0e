package openimtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Proc is a running process of a deployment, as /proc shows it: the black-box
// view, independent of what the supervisor reports.
type Proc struct {
	PID   int
	Name  string   // base name of argv[0]: openim-api, seq, ...
	Index int      // the value of -i, or -1 (pre-start tools)
	Args  []string // the whole command line
	// Start is the start time in clock ticks after boot (/proc/PID/stat
	// field 22): with PID it tells a restarted process from the old one.
	Start uint64
	PPID  int // parent (field 4)
	PGID  int // process group (field 5)
	// CPU is the user and system time used so far (fields 14 and 15, in
	// USER_HZ ticks, which Linux fixes at 100 per second for user space).
	CPU time.Duration
}

// Procs lists the processes whose command line passes this deployment's
// config dir (`-c ConfigDir`): its OpenIM services and pre-start tools. It
// reads /proc (Linux only).
func (d *Deployment) Procs() ([]Proc, error) {
	return ProcsWhere(func(p Proc) bool { return hasFlag(p.Args, "-c", d.ConfigDir) })
}

// ProcsWhere lists the running processes for which keep is true.
func ProcsWhere(keep func(Proc) bool) ([]Proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var ps []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readProc(pid)
		if !ok || !keep(p) {
			continue
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Find returns the deployment's running instance index of service name.
func (d *Deployment) Find(name string, index int) (Proc, bool, error) {
	ps, err := d.Procs()
	if err != nil {
		return Proc{}, false, err
	}
	for _, p := range ps {
		if p.Name == name && p.Index == index {
			return p, true, nil
		}
	}
	return Proc{}, false, nil
}

// readProc reads one process; ok is false when it is gone, a zombie or
// unreadable.
func readProc(pid int) (Proc, bool) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	raw, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil || len(raw) == 0 {
		return Proc{}, false
	}
	args := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return Proc{}, false
	}
	// Fields after the parenthesised command: state is field 3, starttime 22.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return Proc{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 || f[0] == "Z" {
		return Proc{}, false
	}
	start, _ := strconv.ParseUint(f[19], 10, 64)
	ppid, _ := strconv.Atoi(f[1])
	pgid, _ := strconv.Atoi(f[2])
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	p := Proc{PID: pid, Name: filepath.Base(args[0]), Index: -1, Args: args, Start: start,
		PPID: ppid, PGID: pgid, CPU: time.Duration(utime+stime) * (time.Second / 100)}
	for j := 0; j+1 < len(args); j++ {
		if args[j] == "-i" {
			if n, err := strconv.Atoi(args[j+1]); err == nil {
				p.Index = n
			}
		}
	}
	return p, true
}

// Sockets counts the sockets the process holds open (its /proc/PID/fd
// entries that link to "socket:[...]").
func (p Proc) Sockets() (int, error) {
	dir := filepath.Join("/proc", strconv.Itoa(p.PID), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("sockets of pid %d: %w", p.PID, err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n, nil
}

// hasFlag reports whether args hold flag followed by value.
func hasFlag(args []string, flag, value string) bool {
	for j := 0; j+1 < len(args); j++ {
		if args[j] == flag && args[j+1] == value {
			return true
		}
	}
	return false
}

// Same reports whether q is the same command line as p (a restart of it
// has a new PID or start time and the same command line).
func (p Proc) Same(q Proc) bool {
	return strings.Join(p.Args, "\x00") == strings.Join(q.Args, "\x00")
}

// Kill sends SIGKILL to the process.
func (p Proc) Kill() error { return p.kill() }
