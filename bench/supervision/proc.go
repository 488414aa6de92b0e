//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// childrenOf lists the direct children of pid (all its threads).
func childrenOf(pid int) []int {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, f := range bytes.Fields(b) {
			if c, err := strconv.Atoi(string(f)); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// exeOf is the resolved executable of pid ("" when gone).
func exeOf(pid int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return s
}

// pss is the proportional set size of pid in KiB.
func pss(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Pss:") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				v, _ := strconv.ParseInt(fs[1], 10, 64)
				return v
			}
		}
	}
	return 0
}

// cpuNanos is the on-CPU time of every thread of pid (schedstat, ns).
func cpuNanos(pid int) int64 {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		fs := bytes.Fields(b)
		if len(fs) > 0 {
			v, _ := strconv.ParseInt(string(fs[0]), 10, 64)
			sum += v
		}
	}
	return sum
}

// tree is one scan of a supervision tree: the supervisor processes (root
// and every descendant that is not the child program) and the children.
type tree struct {
	supervisors []int
	children    map[int]int // child pid -> its parent
}

// scanner walks a tree from its root. It remembers which pids are children
// (the child program never turns into something else), so a scan reads only
// the supervisors' /proc entries.
type scanner struct {
	child   string
	isChild map[int]bool
}

func newScanner(child string) *scanner { return &scanner{child: child, isChild: map[int]bool{}} }

func (s *scanner) scan(root int) tree {
	t := tree{children: map[int]int{}}
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		t.supervisors = append(t.supervisors, p)
		for _, c := range childrenOf(p) {
			if s.isChild[c] {
				t.children[c] = p
				continue
			}
			switch exeOf(c) {
			case s.child:
				s.isChild[c] = true
				t.children[c] = p
			case "":
			default:
				queue = append(queue, c)
			}
		}
	}
	return t
}

func (s *scanner) forget(pid int) { delete(s.isChild, pid) }

// isGuardian reports whether pid is openim-supervisor's guardian (the
// binary re-executed with OPENIM_SUPERVISOR_GUARDIAN=1, argv "-test.run=^$").
func isGuardian(pid int) bool {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return bytes.Contains(b, []byte("\x00-test.run=^$"))
}

// proc is a process as it was seen: pid and start time (/proc/PID/stat
// field 22), so that a reused pid is not taken for it.
type proc struct {
	pid   int
	start string
}

func seen(pids []int) []proc {
	var out []proc
	for _, p := range pids {
		if st := statFields(p); len(st) > 19 {
			out = append(out, proc{p, st[19]})
		}
	}
	return out
}

// alive reports whether p still runs (not gone, not a zombie, same start).
func (p proc) alive() bool {
	st := statFields(p.pid)
	return len(st) > 19 && st[19] == p.start && st[0] != "Z"
}

// statFields are the fields of /proc/PID/stat after the command name
// (field 3, the state, first); nil when the process is gone.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// awaitGone waits until every one of ps has ended, up to limit, then
// SIGKILLs what is left. A supervisor's helpers (runsv, s6-supervise) may
// outlive its root for a while after a stop; left running, they would take
// CPU from the next measurement. It returns how many had to be killed.
func awaitGone(ps []proc, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		var left []proc
		for _, p := range ps {
			if p.alive() {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			for _, p := range left {
				syscall.Kill(p.pid, syscall.SIGKILL)
			}
			return len(left)
		}
		ps = left
		time.Sleep(10 * time.Millisecond)
	}
}
