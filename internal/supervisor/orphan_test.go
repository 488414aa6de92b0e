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

// The supervisor is SIGKILLed while its children run, each with a
// grandchild in its process group: within 2 s nothing of them is left
// (Pdeathsig ends the children, the guardian their groups).
func TestNoOrphanAfterSupervisorSIGKILL(t *testing.T) {
	t.Parallel()
	needLinux(t)
	gc := map[string]string{"STANDIN_GRANDCHILD": "1"}
	up := &config.Ready{After: dur(500 * time.Millisecond)} // the grandchildren are started then
	cfg := newConfig(t, config.Process{Name: "openim-push", Instances: 4, Env: gc, Ready: up},
		config.Process{Name: "openim-api", Instances: 1, Env: gc, Ready: up})
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
	children, grand, _ := strings.Cut(strings.TrimPrefix(line, "READY "), " GRANDCHILDREN ")
	for _, f := range append(strings.Fields(children), strings.Fields(grand)...) {
		pid, _ := strconv.Atoi(f)
		if !alive(pid) {
			t.Fatalf("process %d not running before the kill", pid)
		}
		pids = append(pids, pid)
	}
	if len(strings.Fields(children)) != 5 || len(strings.Fields(grand)) < 1 {
		t.Fatalf("children %q grandchildren %q", children, grand)
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
	killed := time.Now()
	for _, pid := range pids {
		waitGone(t, pid, 2*time.Second-time.Since(killed), alive)
	}
	t.Logf("%d children and grandchildren gone %v after the SIGKILL", len(pids), time.Since(killed))
}

// A group whose leader (the child) is gone, as after Pdeathsig, with a
// grandchild left in it: the next start finds it by its process group and
// ends it.
func TestLeftoverGroupWithoutLeaderKilledAtStart(t *testing.T) {
	t.Parallel()
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-api", Instances: 1})
	c := exec.Command("/bin/sh", "-c", "sleep 300 & echo $!; read x")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, _ := c.StdinPipe()
	out, _ := c.StdoutPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-c.Process.Pid, syscall.SIGKILL); c.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	member, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := process.Identify("openim-api:0", c.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := process.WriteRecords(filepath.Join(cfg.Paths.StateDir, process.RecordsFile), []process.Record{rec}); err != nil {
		t.Fatal(err)
	}
	in.Close()
	c.Wait() // the leader is gone
	if !alive(member) {
		t.Fatal("the member died with its leader")
	}
	h := start(t, cfg, nil)
	h.waitReady(10 * time.Second)
	waitGone(t, member, 2*time.Second, alive)
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
	rec, err := process.Identify("openim-api:0", leftover.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	rec2, _ := process.Identify("openim-push:0", recycled.Process.Pid)
	rec2.StartTime += 12345 // recorded earlier: the pid is another process now
	recs := []process.Record{rec, rec2}
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
