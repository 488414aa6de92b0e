//go:build linux

package supervisor

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// Several forker goroutines start the instances of a process at the same
// time: every instance gets its own child, becomes ready, and a killed one
// is restarted at once while the others keep running.
func TestManyInstancesStartConcurrently(t *testing.T) {
	t.Parallel()
	needLinux(t)
	if n := forkers(); n < 2 || n > 4 {
		t.Fatalf("forkers() = %d, want 2..4", n)
	}
	const n = 40
	cfg := newConfig(t, config.Process{Name: "extra", Command: "/bin/sh", Args: []string{"-c", "exec sleep 60"}, Instances: n})
	cfg.Defaults.Ready = config.Ready{After: dur(0)}
	h := start(t, cfg, nil)
	h.waitReady(30 * time.Second)
	pids := map[int]string{}
	for _, s := range h.m.Status() {
		if s.State != StateRunning || s.PID <= 0 {
			t.Fatalf("%s:%d: %s pid %d, want running", s.Name, s.Index, s.State, s.PID)
		}
		if other, dup := pids[s.PID]; dup {
			t.Fatalf("pid %d shared by %s and %s:%d", s.PID, other, s.Name, s.Index)
		}
		pids[s.PID] = s.Name + ":" + strconv.Itoa(s.Index)
	}
	if len(pids) != n {
		t.Fatalf("%d children, want %d", len(pids), n)
	}
	for i := 0; i < n; i += 10 {
		id := "extra:" + strconv.Itoa(i)
		old := h.get(id)
		if err := syscall.Kill(old.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		h.waitFor(id, 10*time.Second, "restarted", func(s InstanceStatus) bool {
			return s.State == StateRunning && s.PID != 0 && s.PID != old.PID
		})
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}
