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

// reap collects every reapable zombie. Reaping holds the start lock so a
// child being started (forked but not yet registered) cannot be mistaken
// for an orphan; the scan of /proc below does not hold it, so that a
// SIGCHLD at 1000 children does not hold up the restart of the child that
// caused it.
func (r *Reaper) reap() {
	self := syscall.Getpgrp()
	// Fast path: peek at one waitable child without reaping it.
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		pid := siginfoPid(&info)
		if err != nil || pid <= 0 {
			return // no zombie at all
		}
		if !r.reapLocked(pid, self) {
			break // one of ours is first in line; look further below
		}
	}
	// Slow path: a child of ours hides the others from waitid; scan the
	// children lists for zombies.
	var zombies []int
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil || r.isOurs(pid) {
				continue
			}
			if st, err := readStat(pid); err == nil && st.state == 'Z' && st.pgrp != self && st.pgrp != pid {
				zombies = append(zombies, pid)
			}
		}
	}
	for _, pid := range zombies {
		r.reapLocked(pid, self)
	}
}

// reapLocked reaps pid if it is reapable, checked under the start lock.
func (r *Reaper) reapLocked(pid, self int) bool {
	r.starts.Lock()
	defer r.starts.Unlock()
	if !r.reapable(pid, self) {
		return false
	}
	r.reapPid(pid)
	return true
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
