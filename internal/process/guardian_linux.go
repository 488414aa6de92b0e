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
func StartGuardian() (*Guardian, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start guardian: %w", err)
	}
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
	defer readyR.Close()
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
		w.Close()
		return nil, fmt.Errorf("start guardian: %w", err)
	}
	g := &Guardian{w: w, cmd: cmd}
	// Wait until it ignores the signals meant for the supervisor and reads.
	var b [1]byte
	if n, err := readyR.Read(b[:]); n != 1 || b[0] != 'G' {
		g.Close()
		return nil, fmt.Errorf("start guardian: %s did not run it (does its main call process.RunGuardianIfAsked?): %v", self, err)
	}
	return g, nil
}
