//go:build !unix

package openimtest

import (
	"os"
	"os/exec"
)

// The real OpenIM tests run on Linux; elsewhere this package only builds.

func setpgid(*exec.Cmd) {}

func terminate(p *os.Process) error { return p.Kill() }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func (p Proc) kill() error {
	q, err := os.FindProcess(p.PID)
	if err != nil {
		return err
	}
	return q.Kill()
}
