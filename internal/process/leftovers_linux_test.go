package process

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// group starts `sh -c 'sleep 300 & echo $!; read x'` in its own process
// group: the shell leads the group and waits on stdin; the sleep is a
// member of the group (a grandchild, for a supervisor). Closing the
// returned writer ends the leader, as Pdeathsig would; the member stays.
func group(t *testing.T) (leader *exec.Cmd, member int, release io.Closer) {
	t.Helper()
	sh := needUnix(t)
	c := exec.Command(sh, "-c", "sleep 300 & echo $!; read x")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	member, err = strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		in.Close()
		c.Wait()
	})
	return c, member, in
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	st, err := readStat(pid)
	return err == nil && st.state != 'Z'
}

func waitDead(t *testing.T, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for running(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still runs after %v", pid, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKillLeftoversGroupWithoutLeader(t *testing.T) {
	t.Parallel()
	leader, member, release := group(t)
	rec, err := Identify("openim-push:0", leader.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if rec.PGID != leader.Process.Pid || rec.SID != getsid(t) || rec.Exe == "" || rec.Boot == "" {
		t.Fatalf("record %+v", rec)
	}
	release.Close()
	leader.Wait() // the leader is gone, its group lives on in the member
	if !running(member) {
		t.Fatal("member died with the leader")
	}
	killed, err := KillLeftovers([]Record{rec})
	if err != nil {
		t.Fatal(err)
	}
	if len(killed) != 1 || killed[0].PID != member || killed[0].Leader {
		t.Fatalf("killed %+v, want the member %d", killed, member)
	}
	waitDead(t, member, 2*time.Second)
}

func TestKillLeftoversChecksIdentity(t *testing.T) {
	t.Parallel()
	leader, member, _ := group(t)
	rec, err := Identify("openim-push:0", leader.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]Record{
		// The pid is another process now (different start time): neither it
		// nor its group may be touched... unless members started after the
		// recorded time, which these did not.
		"start time":  func() Record { r := rec; r.StartTime += 1000000; return r }(),
		"executable":  func() Record { r := rec; r.Exe = "/usr/bin/not-this"; r.StartTime += 1000000; return r }(),
		"other boot":  func() Record { r := rec; r.Boot = "0000"; return r }(),
		"session":     func() Record { r := rec; r.SID++; r.StartTime += 1000000; return r }(),
		"no identity": func() Record { r := rec; r.StartTime = 0; return r }(),
	} {
		killed, err := KillLeftovers([]Record{r})
		if err != nil || len(killed) != 0 {
			t.Fatalf("%s: killed %+v (%v) for a record that is not them", name, killed, err)
		}
	}
	if !running(leader.Process.Pid) || !running(member) {
		t.Fatal("a process was killed without proof it was ours")
	}
	// The true record kills both, leader and member.
	killed, err := KillLeftovers([]Record{rec})
	if err != nil || len(killed) != 2 {
		t.Fatalf("killed %+v, %v; want leader and member", killed, err)
	}
	waitDead(t, member, 2*time.Second)
	leader.Wait()
}

// The guardian kills what its records name when the pipe closes without a
// drop (the supervisor died), and nothing that was dropped.
func TestGuardianKillsGroupsWhenSupervisorGoes(t *testing.T) {
	t.Parallel()
	g, err := StartGuardian()
	if err != nil || g == nil {
		t.Fatalf("StartGuardian: %v %v", g, err)
	}
	leader, member, release := group(t)
	other, otherMember, _ := group(t)
	rec, _ := Identify("openim-push:0", leader.Process.Pid)
	orec, _ := Identify("openim-push:1", other.Process.Pid)
	if err := g.Add(rec); err != nil {
		t.Fatal(err)
	}
	if err := g.Add(orec); err != nil {
		t.Fatal(err)
	}
	if err := g.Drop(orec.ID, orec.PID); err != nil { // ended normally
		t.Fatal(err)
	}
	release.Close() // as Pdeathsig: the leader goes first
	leader.Wait()
	start := time.Now()
	if err := g.Close(); err != nil { // what the guardian sees when the supervisor is SIGKILLed
		t.Fatal(err)
	}
	waitDead(t, member, 2*time.Second)
	t.Logf("member gone %v after the pipe closed", time.Since(start))
	if !running(other.Process.Pid) || !running(otherMember) {
		t.Fatal("the guardian killed a group it was told had ended")
	}
}

// listeningGuardian starts a guardian and waits until it listens.
func listeningGuardian(t *testing.T) *Guardian {
	t.Helper()
	g, err := StartGuardian()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Started(context.Background()); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGuardianIgnoresTerminalSignals(t *testing.T) {
	t.Parallel()
	g := listeningGuardian(t)
	if err := g.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := g.Add(Record{ID: "x:0", PID: 1 << 22, PGID: 1 << 22, StartTime: 1}); err != nil {
		t.Fatalf("guardian died of SIGINT: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

// Records sent while the guardian does not read (its start competes with
// the children's) do not block the sender: 4000 of them, about 600 KiB,
// more than a default pipe's 64 KiB.
func TestGuardianBuffersRecords(t *testing.T) {
	t.Parallel()
	g := listeningGuardian(t)
	pid := g.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	done := make(chan error, 1)
	go func() {
		for i := range 4000 {
			if err := g.Add(Record{ID: fmt.Sprintf("openim-push:%d", i), PID: 1<<22 - i, PGID: 1<<22 - i, StartTime: 1, Exe: "/nonexistent/openim-push"}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		syscall.Kill(pid, syscall.SIGCONT)
		t.Fatal("Add blocked while the guardian did not read")
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

// A binary that does not run the guardian (no RunGuardianIfAsked in its
// main) is reported by Started, and every later message fails.
func TestGuardianThatDoesNotComeUp(t *testing.T) {
	t.Parallel()
	g, err := startGuardian("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.Started(ctx); err == nil || !strings.Contains(err.Error(), "RunGuardianIfAsked") {
		t.Fatalf("Started: %v, want the missing hook named", err)
	}
	if err := g.Add(Record{ID: "x:0", PID: 1 << 22, PGID: 1 << 22, StartTime: 1}); err == nil {
		t.Fatal("Add to a guardian that never came up succeeded")
	}
	_ = g.Close()
}

func getsid(t *testing.T) int {
	sid, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	return sid
}
