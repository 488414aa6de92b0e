package process

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// StartGuardian starts the guardian by re-executing this binary, which must
// call RunGuardianIfAsked first thing in main (the test binaries do in
// TestMain). Without a way to run it (outside Linux) it returns nil, nil.
//
// It waits neither for the guardian's fork nor for it to listen: that is a
// second start of the whole binary, and children need not wait for it.
// What is written to it meanwhile waits in the pipe, which it reads to the
// end even when the supervisor is gone by then. Started tells whether it
// came up.
func StartGuardian() (*Guardian, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	return startGuardian(self)
}

// guardianPipeSize is the record pipe's capacity: records written before
// the guardian reads (its start competes with up to thousands of children
// starting) wait there instead of blocking the forks. 1 MiB, the unprivileged
// maximum (fs.pipe-max-size), holds about 5000 records.
const guardianPipeSize = 1 << 20

// startGuardian runs self as the guardian. The pipes exist when it
// returns, so that Add and Drop work at once; the fork and exec run on a
// goroutine of their own. (Start-all of 10 children in the benchmark, as a
// ratio to runit's in the same run: 1.04 with the fork and exec here,
// 0.84-0.90 on a goroutine, 0.75 without a guardian at all. A guardian
// niced to 10 gained another 0-5 %, within the noise, and would have slowed
// its kills on a loaded machine: not done.)
func startGuardian(self string) (*Guardian, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	if rc, err := w.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, guardianPipeSize) })
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	// "-test.run=^$": a test binary that lacks the hook runs no test.
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(BaseEnv(), GuardianEnv+"=1")
	cmd.Stdin = r
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.ExtraFiles = []*os.File{readyW} // fd 3: closed once it listens
	// Its own process group: a Ctrl-C to the supervisor's does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	g := &Guardian{w: w, cmd: cmd, forked: make(chan struct{}), started: make(chan struct{})}
	go g.start(r, readyW, readyR, self)
	return g, nil
}

// start forks and execs the guardian, then waits for its "G" (it ignores
// the signals meant for the supervisor and reads). It returns when that
// came or the guardian is known not to come up.
func (g *Guardian) start(r, readyW, readyR *os.File, self string) {
	defer close(g.started)
	defer readyR.Close()
	err := g.cmd.Start()
	r.Close()
	readyW.Close()
	close(g.forked)
	if err != nil {
		g.fail(fmt.Errorf("start guardian: %w", err))
		return
	}
	var b [1]byte
	if n, err := readyR.Read(b[:]); n != 1 || b[0] != 'G' {
		g.fail(fmt.Errorf("start guardian: %s did not run it (does its main call process.RunGuardianIfAsked?): %v", self, err))
	}
}
