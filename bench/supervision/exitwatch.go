//go:build linux

package main

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// exitWatcher waits for a set of processes to exit through pidfds.
type exitWatcher struct {
	fds map[int]int // fd -> pid
}

func newExitWatcher(pids []int) (*exitWatcher, error) {
	w := &exitWatcher{fds: map[int]int{}}
	for _, p := range pids {
		fd, err := unix.PidfdOpen(p, 0)
		if err != nil {
			if err == unix.ESRCH {
				continue // already gone
			}
			w.close()
			return nil, fmt.Errorf("pidfd_open %d: %w", p, err)
		}
		w.fds[fd] = p
	}
	return w, nil
}

// wait returns once every watched process exited, or fails after limit.
func (w *exitWatcher) wait(limit time.Duration) error {
	end := time.Now().Add(limit)
	for len(w.fds) > 0 {
		pfds := make([]unix.PollFd, 0, len(w.fds))
		for fd := range w.fds {
			pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
		left := time.Until(end)
		if left <= 0 {
			return fmt.Errorf("%d processes still running after %v", len(w.fds), limit)
		}
		n, err := unix.Poll(pfds, int(left.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		if n == 0 {
			continue
		}
		for _, pf := range pfds {
			if pf.Revents != 0 {
				unix.Close(int(pf.Fd))
				delete(w.fds, int(pf.Fd))
			}
		}
	}
	return nil
}

func (w *exitWatcher) close() {
	for fd := range w.fds {
		unix.Close(fd)
	}
	w.fds = nil
}
