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

func waitExit(*Process) {}

func takePidfd(*syscall.SysProcAttr) int { return -1 }

func closePidfd(*syscall.SysProcAttr) {}

// releaseHandle: without a pidfd, cmd.Wait reaps the child.
func releaseHandle(*exec.Cmd) bool { return false }

func reapPid(int) (int, string) { return -1, "" }
