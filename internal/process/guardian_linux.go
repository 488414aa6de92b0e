package process

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// StartGuardian starts the guardian by re-executing this binary, which must
// call RunGuardianIfAsked first thing in main (the test binaries do in
// TestMain). Without a way to run it (outside Linux) it returns nil, nil.
//
// It does not wait for the guardian to listen: that is a second start of
// the whole binary (about 9 ms), and children need not wait for it. What is
// written to it meanwhile waits in the pipe, which it reads to the end even
// when the supervisor is gone by then. Started tells whether it came up.
func StartGuardian() (*Guardian, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	return startGuardian(self)
}

// startGuardian runs self as the guardian.
func startGuardian(self string) (*Guardian, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start guardian: %w", err)
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
	err = cmd.Start()
	r.Close()
	readyW.Close()
	if err != nil {
		readyR.Close()
		w.Close()
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	g := &Guardian{w: w, cmd: cmd, started: make(chan struct{})}
	go g.awaitStart(readyR, self)
	return g, nil
}

// awaitStart reads the guardian's "G" (it ignores the signals meant for the
// supervisor and reads). It returns when that came or the guardian is gone.
func (g *Guardian) awaitStart(readyR *os.File, self string) {
	defer close(g.started)
	defer readyR.Close()
	var b [1]byte
	if n, err := readyR.Read(b[:]); n != 1 || b[0] != 'G' {
		g.startErr = fmt.Errorf("start guardian: %s did not run it (does its main call process.RunGuardianIfAsked?): %v", self, err)
		g.mu.Lock()
		if g.err == nil {
			g.err = g.startErr
		}
		g.mu.Unlock()
	}
}
