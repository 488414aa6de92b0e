//go:build unix

package process

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

type sysProc struct{}

func afterStart(*exec.Cmd) sysProc { return sysProc{} }

func (sysProc) release() {}

// killGroup SIGKILLs whatever is left of the group after the leader exited.
func (sysProc) killGroup(pgid int) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

func (sysProc) signalGroup(pgid int, name string) error {
	sig, err := ParseSignal(name)
	if err != nil {
		return err
	}
	if pgid <= 0 {
		return errors.New("no process group")
	}
	err = syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// ParseSignal maps "TERM" or "SIGTERM" to the signal.
func ParseSignal(name string) (syscall.Signal, error) {
	n := strings.TrimPrefix(strings.ToUpper(name), "SIG")
	if n == "" {
		return syscall.SIGTERM, nil
	}
	s := unix.SignalNum("SIG" + n)
	if s == 0 {
		return 0, errors.New("unknown signal " + name)
	}
	return s, nil
}

func exitStatus(st *os.ProcessState) (int, string) {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if ok {
		return waitStatus(ws)
	}
	return st.ExitCode(), ""
}

// waitStatus: the exit code, or 128+signal and the signal's name.
func waitStatus(ws syscall.WaitStatus) (int, string) {
	switch {
	case ws.Signaled():
		name := strings.TrimPrefix(unix.SignalName(ws.Signal()), "SIG")
		return 128 + int(ws.Signal()), name
	case ws.Exited():
		return ws.ExitStatus(), ""
	}
	return -1, ""
}
