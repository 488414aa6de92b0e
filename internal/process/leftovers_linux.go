package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Identify reads the Record of a child that runs now: its process group,
// session, start time and executable, and the boot id.
func Identify(id string, pid int) (Record, error) {
	st, err := readStat(pid)
	if err != nil {
		return Record{}, fmt.Errorf("identify pid %d: %w", pid, err)
	}
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return Record{ID: id, PID: pid, PGID: st.pgrp, SID: st.sid, StartTime: st.startTime,
		Exe: strings.TrimSuffix(exe, " (deleted)"), Boot: bootID()}, nil
}

// bootID is this boot's id ("" when unknown).
func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return string(bytes.TrimSpace(b))
}

// KillLeftovers SIGKILLs what is left of each recorded child: the child
// itself and every member of its process group, also when the child (the
// group's leader) is gone, as it is after Pdeathsig. Nothing is signalled
// without proof that it is ours:
//
//   - the record is from this boot (start times restart at a reboot);
//   - the child: same start time and executable as recorded;
//   - a member: in the recorded process group and session, and started no
//     earlier than the child (a pid, and so a group id, is only reused once
//     nothing uses it);
//   - each is checked again through a pidfd just before the signal, which
//     then cannot reach a process that took the pid meanwhile.
//
// A grandchild that left the group (setsid, setpgid) is not found: under
// systemd the unit's cgroup covers it. Outside Linux nothing is killed.
func KillLeftovers(recs []Record) ([]Leftover, error) {
	boot := bootID()
	var live []Record
	for _, r := range recs {
		if r.PID > 1 && r.PGID > 1 && r.StartTime != 0 && (r.Boot == "" || r.Boot == boot) {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return nil, nil
	}
	procs, err := scanProcs()
	if err != nil {
		return nil, fmt.Errorf("kill leftovers: %w", err)
	}
	self := os.Getpid()
	var out []Leftover
	var errs []error
	for _, r := range live {
		for _, p := range procs {
			if p.pid == self || p.state == 'Z' {
				continue
			}
			leader := p.pid == r.PID
			if leader {
				if p.startTime != r.StartTime || !sameExe(p.pid, r.Exe) {
					continue // a different process has the pid now
				}
			} else if p.pgrp != r.PGID || p.startTime < r.StartTime || (r.SID != 0 && p.sid != r.SID) {
				continue
			}
			switch err := killIfSame(p); {
			case err == nil:
				out = append(out, Leftover{Record: r, PID: p.pid, Leader: leader})
			case !errors.Is(err, errGone):
				errs = append(errs, fmt.Errorf("kill leftover pid %d of %s: %w", p.pid, r.ID, err))
			}
		}
	}
	return out, errors.Join(errs...)
}

func sameExe(pid int, want string) bool {
	if want == "" {
		return true
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil && strings.TrimSuffix(exe, " (deleted)") == want
}

var errGone = errors.New("gone")

// killIfSame opens a pidfd for p, checks that it still is the process seen
// in the scan (start time, group, session), and SIGKILLs it through the
// pidfd. Without pidfds (kernels before 5.3) it checks, then kills by pid.
func killIfSame(p procStat) error {
	fd, err := unix.PidfdOpen(p.pid, 0)
	if err == unix.ESRCH {
		return errGone
	}
	if err != nil {
		if st, err := readStat(p.pid); err != nil || st.startTime != p.startTime || st.pgrp != p.pgrp {
			return errGone
		}
		if err := syscall.Kill(p.pid, syscall.SIGKILL); err == syscall.ESRCH {
			return errGone
		} else {
			return err
		}
	}
	defer unix.Close(fd)
	if st, err := readStat(p.pid); err != nil || st.startTime != p.startTime || st.pgrp != p.pgrp || st.sid != p.sid {
		return errGone
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err == unix.ESRCH {
		return errGone
	} else {
		return err
	}
}

// scanProcs reads the stat line of every process.
func scanProcs() ([]procStat, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := make([]procStat, 0, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			out = append(out, st)
		}
	}
	return out, nil
}
