package process

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// siginfoPid returns si_pid of a SIGCHLD siginfo (0 when none was filled).
func siginfoPid(info *unix.Siginfo) int {
	// Layout (all Linux ABIs): int si_signo, si_errno, si_code; [pad on 64-bit]; pid_t si_pid.
	// x/sys exposes the union as raw bytes, so read si_pid at its offset.
	type sigchld struct {
		Signo int32
		Errno int32
		Code  int32
		_     [unsafe.Sizeof(uintptr(0)) - 4]byte
		Pid   int32
	}
	return int((*sigchld)(unsafe.Pointer(info)).Pid)
}
