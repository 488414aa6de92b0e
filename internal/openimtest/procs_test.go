//go:build linux

package openimtest

import (
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestProcsWhere: a child found through /proc carries its parent, its own
// process group, the CPU it burnt and the sockets it holds.
func TestProcsWhere(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	// Busy for a while (about 0.1 s of CPU or more), then idle.
	cmd := exec.Command("sh", "-c", `i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo busy-done; exec sleep 30`)
	cmd.ExtraFiles = []*os.File{sock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	buf := make([]byte, 64)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the exec of sleep happen
	ps, err := ProcsWhere(func(p Proc) bool { return p.PID == cmd.Process.Pid })
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("found %d processes with pid %d, want 1", len(ps), cmd.Process.Pid)
	}
	p := ps[0]
	if p.PPID != os.Getpid() || p.PGID != cmd.Process.Pid {
		t.Errorf("ppid %d pgid %d, want %d and %d", p.PPID, p.PGID, os.Getpid(), cmd.Process.Pid)
	}
	if p.CPU < 20*time.Millisecond {
		t.Errorf("CPU %v after a busy loop, want at least 20ms", p.CPU)
	}
	n, err := p.Sockets()
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d sockets, want 1 (the listener passed as fd 3)", n)
	}
	none, err := ProcsWhere(func(p Proc) bool { return false })
	if err != nil || len(none) != 0 {
		t.Errorf("ProcsWhere(false) = %d processes, %v", len(none), err)
	}
}
