package process

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Run makes the supervisor a child subreaper (PR_SET_CHILD_SUBREAPER), so
// orphaned grandchildren are re-parented to it instead of init, and reaps
// their zombies on every SIGCHLD until ctx ends. It blocks; run it in a
// goroutine. No polling: it sleeps until a SIGCHLD arrives.
func (r *Reaper) Run(ctx context.Context) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGCHLD)
	defer signal.Stop(ch)
	r.reap()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
			r.reap()
		}
	}
}

// reap collects every reapable zombie. It holds the start lock so a child
// being started (forked but not yet registered) cannot be mistaken for an
// orphan.
func (r *Reaper) reap() {
	r.starts.Lock()
	defer r.starts.Unlock()
	self := syscall.Getpgrp()
	// Fast path: peek at one waitable child without reaping it.
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		pid := siginfoPid(&info)
		if err != nil || pid <= 0 {
			return // no zombie at all
		}
		if !r.reapable(pid, self) {
			break // one of ours is first in line; look further below
		}
		r.reapPid(pid)
	}
	// Slow path: a child of ours hides the others from waitid; scan the
	// children lists for zombies.
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if r.isOurs(pid) {
				continue
			}
			if st, err := readStat(pid); err == nil && st.state == 'Z' && st.pgrp != self && st.pgrp != pid {
				r.reapPid(pid)
			}
		}
	}
}

func (r *Reaper) reapable(pid, selfPgrp int) bool {
	if r.isOurs(pid) {
		return false
	}
	st, err := readStat(pid)
	if err != nil {
		return false
	}
	return st.pgrp != selfPgrp && st.pgrp != pid
}

func (r *Reaper) reapPid(pid int) {
	var ws syscall.WaitStatus
	if got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err == nil && got == pid {
		r.mu.Lock()
		r.n++
		r.mu.Unlock()
	}
}
