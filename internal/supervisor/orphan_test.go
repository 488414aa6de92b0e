//go:build linux

package supervisor

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/process"
)

func TestNoOrphanAfterSupervisorSIGKILL(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-push", Instances: 4}, config.Process{Name: "openim-api", Instances: 1})
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cfg.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lineCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "READY ") {
				lineCh <- sc.Text()
				return
			}
		}
		close(lineCh)
	}()
	var line string
	select {
	case line = <-lineCh:
	case <-time.After(20 * time.Second):
		t.Fatal("helper supervisor not ready")
	}
	var pids []int
	for _, f := range strings.Fields(line)[1:] {
		pid, _ := strconv.Atoi(f)
		if !alive(pid) {
			t.Fatalf("child %d not running before the kill", pid)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 5 {
		t.Fatalf("pids %v", pids)
	}
	// children.json describes them (written asynchronously).
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs, err := process.ReadRecords(filepath.Join(cfg.Paths.StateDir, process.RecordsFile))
		if err == nil && len(recs) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("children.json: %v records, %v", len(recs), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for _, pid := range pids {
		waitGone(t, pid, time.Second, alive) // Pdeathsig
	}
}

// startGroup starts a sleeper in its own process group, as a child of a
// supervisor that died would be.
func startGroup(t *testing.T) *exec.Cmd {
	t.Helper()
	c := exec.Command(filepath.Join(standinDir, "extra"), "__sleep")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return c
}

func TestLeftoversFromChildrenJSONAreKilled(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 1})
	leftover := startGroup(t)
	recycled := startGroup(t) // same pid as a record, different start time
	st, err := process.StartTicks(leftover.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := process.StartTicks(recycled.Process.Pid)
	recs := []process.Record{
		{ID: "openim-api:0", PID: leftover.Process.Pid, PGID: leftover.Process.Pid, StartTime: st},
		{ID: "openim-push:0", PID: recycled.Process.Pid, PGID: recycled.Process.Pid, StartTime: st2 + 12345},
	}
	if err := process.WriteRecords(filepath.Join(cfg.Paths.StateDir, process.RecordsFile), recs); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(cfg.Paths.StateDir, process.RecordsFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("children.json mode: %v %v", fi.Mode(), err)
	}
	exited := make(chan error, 1)
	go func() { exited <- leftover.Wait() }()
	h := start(t, cfg, nil)
	h.waitReady(10 * time.Second)
	select {
	case err := <-exited:
		if ws, ok := leftover.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("leftover ended with %v, want SIGKILL", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("leftover recorded in children.json was not killed")
	}
	if !alive(recycled.Process.Pid) {
		t.Fatal("a process whose start time does not match the record was killed")
	}
}
