package process

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// sysProcAttr: own process group; SIGKILL when the supervisor (the forking
// thread; see Start) dies; a pidfd so that waiting for the exit parks in the
// runtime poller instead of holding an OS thread in waitid per child.
func sysProcAttr() *syscall.SysProcAttr {
	fd := -1
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, PidFD: &fd}
}

// waitExit blocks the calling goroutine (not an OS thread) until the child
// exited, without reaping it; cmd.Wait then returns at once. Without a
// pidfd (old kernels) it returns immediately and cmd.Wait blocks instead.
func waitExit(p *Process) {
	fd := p.pidfd
	if fd < 0 {
		return
	}
	p.pidfd = -1
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err != nil {
			return true // let cmd.Wait report it
		}
		return siginfoPid(&info) != 0 // 0: still running; park until the pidfd is readable
	})
}

// releaseHandle closes the pidfd that cmd.Process holds: os.StartProcess
// keeps its own duplicate of Spec's PidFD, a second descriptor per child
// that every later fork copies and closes again (the cost of a fork grows
// with the supervisor's descriptor count). The child is then reaped by pid
// (reapPid), which is safe: its pid cannot be reused before that. False
// (keep using cmd.Wait) when the child has no pidfd.
func releaseHandle(cmd *exec.Cmd) bool {
	a := cmd.SysProcAttr
	if a == nil || a.PidFD == nil || *a.PidFD < 0 || cmd.Process == nil {
		return false
	}
	_ = cmd.Process.Release()
	// cmd.Wait is never called now: drop the GODEBUG=execwait finalizer,
	// which would panic about a "leaked" Cmd.
	runtime.SetFinalizer(cmd, nil)
	return true
}

// reapPid reaps a child that already exited (its pidfd was readable).
func reapPid(pid int) (code int, signal string) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, ""
		}
		return waitStatus(ws)
	}
}

// takePidfd moves the child's pidfd out of the attributes (-1: none).
func takePidfd(a *syscall.SysProcAttr) int {
	if a == nil || a.PidFD == nil || *a.PidFD < 0 {
		return -1
	}
	fd := *a.PidFD
	*a.PidFD = -1
	return fd
}

// closePidfd releases the pidfd of a child that failed to start.
func closePidfd(a *syscall.SysProcAttr) {
	if a != nil && a.PidFD != nil && *a.PidFD >= 0 {
		syscall.Close(*a.PidFD)
		*a.PidFD = -1
	}
}

// pipe returns a pipe whose read end the Poller or a reader goroutine uses.
func pipe() (r, w *os.File, err error) { return os.Pipe() }

// watchPipe hands the read end to the poller; false: read it in a goroutine.
func watchPipe(p *Poller, f *os.File, w *logs.LineWriter, eof func()) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var dup int = -1
	_ = rc.Control(func(fd uintptr) { dup, _ = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
	if dup < 0 {
		return false
	}
	if err := p.watchPipe(dup, w, eof); err != nil {
		unix.Close(dup)
		return false
	}
	f.Close()
	return true
}

// watchExit hands the child's pidfd to the poller; false: use a wait goroutine.
func watchExit(p *Poller, proc *Process) bool {
	fd := proc.pidfd
	if fd < 0 {
		return false
	}
	if err := p.watchExit(fd, proc); err != nil {
		return false
	}
	proc.pidfd = -1
	return true
}
