package process

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sysProcAttr: a new process group, so that Ctrl-Break reaches only the child.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
}

// sysProc holds the Job Object of the child: KILL_ON_JOB_CLOSE makes the
// whole tree die when the supervisor dies (its handle is closed by the OS).
type sysProc struct {
	job windows.Handle
}

func afterStart(cmd *exec.Cmd) sysProc {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return sysProc{}
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return sysProc{}
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(cmd.Process.Pid))
	if err != nil {
		windows.CloseHandle(job)
		return sysProc{}
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return sysProc{}
	}
	return sysProc{job: job}
}

func (s sysProc) release() {
	if s.job != 0 {
		windows.CloseHandle(s.job) // kills what is left (KILL_ON_JOB_CLOSE)
	}
}

func (s sysProc) killGroup(pid int) {
	if s.job != 0 {
		_ = windows.TerminateJobObject(s.job, 1)
	}
}

func (s sysProc) signalGroup(pid int, name string) error {
	n := strings.TrimPrefix(strings.ToUpper(name), "SIG")
	if n != "KILL" {
		// Graceful: Ctrl-Break to the child's process group; it only works when
		// the child shares our console, so fall back to terminating.
		if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(pid)); err == nil {
			return nil
		}
	}
	if s.job != 0 {
		return windows.TerminateJobObject(s.job, 1)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func exitStatus(st *os.ProcessState) (int, string) { return st.ExitCode(), "" }

// releaseHandle: cmd.Wait waits for the child on Windows.
func releaseHandle(*exec.Cmd) bool { return false }

func reapPid(int) (int, string) { return -1, "" }

func waitExit(*Process) {}

func takePidfd(*syscall.SysProcAttr) int { return -1 }

func closePidfd(*syscall.SysProcAttr) {}
