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
		case <-r.gone:
			r.reap()
		}
	}
}

// reap collects every reapable zombie. Reaping holds the start lock so a
// child being started (forked but not yet registered) cannot be mistaken
// for an orphan.
//
// waitid shows one zombie at a time. When it is one of ours, its own Wait
// reaps it at once and remove wakes Run to look again, so the usual
// SIGCHLD (a child of ours exited) costs two waitid calls, not a scan of
// /proc over every child (at 1000 children that scan took the CPU the
// restart needed). Only a zombie that is neither ours nor reapable (a
// child of plain exec.Command, or of another Reaper in the same process)
// makes reap scan the children lists, without holding the start lock.
func (r *Reaper) reap() {
	self := syscall.Getpgrp()
	// Fast path: peek at one waitable child without reaping it.
	for gone := 0; ; {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		pid := siginfoPid(&info)
		if err != nil || pid <= 0 {
			return // no zombie at all
		}
		v := r.reapLocked(pid, self)
		if v == peekOurs {
			return // reaped by its Wait soon; remove wakes Run then
		}
		if v == peekGone && gone < 100 {
			gone++ // reaped by its owner meanwhile: look again
			continue
		}
		if v != peekReaped {
			break // someone else's child is first in line; look further below
		}
	}
	// Slow path: a child waited for elsewhere hides the others from
	// waitid; scan the children lists for zombies.
	r.mu.Lock()
	r.scan++
	r.mu.Unlock()
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

type peekResult uint8

const (
	peekReaped peekResult = iota // an orphan: reaped
	peekOurs                     // a child of ours: its Wait reaps it
	peekGone                     // no longer there (reaped by its owner)
	peekOther                    // someone else's child: left alone
)

// reapLocked reaps pid if it is reapable, checked under the start lock (a
// child being started is registered as ours before the lock is free).
func (r *Reaper) reapLocked(pid, self int) peekResult {
	r.starts.Lock()
	defer r.starts.Unlock()
	if r.isOurs(pid) {
		return peekOurs
	}
	st, err := readStat(pid)
	switch {
	case err != nil:
		return peekGone
	case st.pgrp != self && st.pgrp != pid:
		r.reapPid(pid)
		return peekReaped
	}
	return peekOther
}

func (r *Reaper) reapPid(pid int) {
	var ws syscall.WaitStatus
	if got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err == nil && got == pid {
		r.mu.Lock()
		r.n++
		r.mu.Unlock()
	}
}
