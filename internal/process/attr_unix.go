//go:build unix && !linux

package process

import (
	"os/exec"
	"syscall"
)

// sysProcAttr: own process group. There is no parent-death signal outside
// Linux; leftovers are killed at the next start from children.json.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func waitExit(*exec.Cmd) {}

func closePidfd(*syscall.SysProcAttr) {}
