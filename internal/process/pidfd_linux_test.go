package process

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// pidfds counts this process's open pidfds.
func pidfds(t *testing.T) int {
	t.Helper()
	fds, err := filepath.Glob("/proc/self/fd/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && l == "anon_inode:[pidfd]" {
			n++
		}
	}
	return n
}

// Every fork copies the supervisor's descriptor table, so a child must
// cost one pidfd, not two (os.Process keeps a duplicate unless released),
// and the exit must still be reaped and reported, with or without the
// Poller. Not parallel: it counts descriptors of the whole test process.
func TestOnePidfdPerChild(t *testing.T) {
	sh := needUnix(t)
	t.Setenv("GODEBUG", "execwait=1") // see the end of each run
	if fd, err := unix.PidfdOpen(os.Getpid(), 0); err != nil {
		t.Skip("no pidfd on this kernel")
	} else {
		unix.Close(fd)
	}
	poller, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer poller.Close()
	forker, err := NewForker(2)
	if err != nil {
		t.Fatal(err)
	}
	defer forker.Close()
	for _, tc := range []struct {
		name   string
		poller *Poller
		forker *Forker
	}{{"poller", poller, nil}, {"goroutine", nil, nil}, {"forker", poller, forker}} {
		t.Run(tc.name, func(t *testing.T) {
			before := pidfds(t)
			c := logs.NewCapture(&sink{}, logs.Options{})
			p, err := Start(context.Background(), Spec{Path: sh, Args: []string{"-c", "exec sleep 30"},
				Output: c.Queue("t", 0, logs.QueueOptions{}), Poller: tc.poller, Forker: tc.forker, StopTimeout: 0})
			if err != nil {
				t.Fatal(err)
			}
			if got := pidfds(t) - before; got != 1 {
				p.Kill()
				p.Exit()
				t.Fatalf("%d pidfds for one child, want 1", got)
			}
			if err := p.Kill(); err != nil {
				t.Fatal(err)
			}
			if ex := p.Exit(); ex.Code != 137 || ex.Signal != "KILL" {
				t.Fatalf("exit %+v, want killed by SIGKILL (137)", ex)
			}
			<-p.OutputDone()
			if got := pidfds(t); got != before {
				t.Fatalf("%d pidfds after the exit, want %d", got, before)
			}
			q, err := Start(context.Background(), Spec{Path: sh, Args: []string{"-c", "exit 3"}, Poller: tc.poller, Forker: tc.forker})
			if err != nil {
				t.Fatal(err)
			}
			if ex := q.Exit(); ex.Code != 3 || ex.Signal != "" {
				t.Fatalf("exit %+v, want code 3", ex)
			}
			// Under GODEBUG=execwait=1 a collected exec.Cmd that was never
			// Waited panics in its finalizer; these children were reaped by pid.
			p, q = nil, nil
			runtime.GC()
			runtime.GC()
			time.Sleep(10 * time.Millisecond) // let finalizers run
		})
	}
}
