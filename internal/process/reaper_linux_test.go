package process

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// A child that leaves a grandchild behind and exits: the grandchild is
// killed with the group and its zombie, re-parented to us, is reaped
// without disturbing exec.Cmd.Wait of our own children.
func TestReaperReapsOrphanedGrandchild(t *testing.T) {
	sh := needUnix(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewReaper()
	go r.Run(ctx)
	time.Sleep(50 * time.Millisecond) // subreaper set
	out := &sink{}
	c := logs.NewCapture(out, logs.Options{})
	p, err := Start(ctx, Spec{Path: sh, Args: []string{"-c", "sleep 30 & echo $!; exit 0"}, Reaper: r, Output: c.Queue("t", 0, logs.QueueOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	// Many short children of ours at the same time: none may lose its Wait.
	var mine []*Process
	for i := 0; i < 20; i++ {
		q, err := Start(ctx, Spec{Path: sh, Args: []string{"-c", "exit 7"}, Reaper: r})
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, q)
	}
	for _, q := range mine {
		if ex := q.Exit(); ex.Code != 7 {
			t.Fatalf("own child exit %+v: reaped by the reaper?", ex)
		}
	}
	if ex := p.Exit(); ex.Code != 0 {
		t.Fatalf("leader exit %+v", ex)
	}
	<-p.OutputDone()
	c.Flush()
	gc, err := strconv.Atoi(strings.TrimPrefix(out.all(), "stdout:"))
	if err != nil {
		t.Fatalf("grandchild pid from %q: %v", out.all(), err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + strconv.Itoa(gc)); err != nil {
			break // killed and reaped
		}
		if time.Now().After(deadline) {
			st, _ := os.ReadFile("/proc/" + strconv.Itoa(gc) + "/stat")
			t.Fatalf("grandchild %d still there: %s", gc, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.Reaped() == 0 {
		t.Fatal("the reaper reaped nothing")
	}
	// Only our own children were in front of the orphan: it was found by
	// looking again once they were reaped, not by scanning /proc (which
	// costs every SIGCHLD O(children) at 1000 instances).
	r.mu.Lock()
	scans := r.scan
	r.mu.Unlock()
	if scans != 0 {
		t.Fatalf("%d scans of /proc; want 0 when only our children hide the orphan", scans)
	}
}
