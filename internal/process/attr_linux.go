package process

import "syscall"

// sysProcAttr: own process group; SIGKILL when the supervisor (the forking
// thread; see Start) dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
