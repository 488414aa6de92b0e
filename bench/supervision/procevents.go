//go:build linux

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procEvents times a restart from the kernel's process events (the netlink
// process connector): the kernel stamps each exec with its monotonic clock,
// and the harness reads the events instead of polling /proc.
//
// Why not poll: the new child shows only in its parent's
// /proc/<pid>/task/*/children. For a supervisor that is the parent of
// 1000 children, one such read takes about half a millisecond, and the
// kernel walks the children list under tasklist_lock, which the
// supervisor's own fork and the victim's exit also take. Polling at 20 µs
// thus slowed the restart it measured, in proportion to N, and only for a
// supervisor that parents every child itself (runsv parents one).
type procEvents struct {
	fd  int
	buf []byte
}

const (
	cnIdxProc         = 1 // CN_IDX_PROC
	cnValProc         = 1 // CN_VAL_PROC
	procCnMcastListen = 1 // PROC_CN_MCAST_LISTEN
	procEventExec     = 2 // PROC_EVENT_EXEC
	nlHdrLen          = 16
	cnMsgLen          = 20
)

// newProcEvents subscribes to process events (needs CAP_NET_ADMIN).
func newProcEvents() (*procEvents, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("netlink connector socket: %w", err)
	}
	e := &procEvents{fd: fd, buf: make([]byte, 1<<16)}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		e.close()
		return nil, fmt.Errorf("bind the process connector: %w", err)
	}
	msg := make([]byte, nlHdrLen+cnMsgLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NLMSG_DONE)
	ne.PutUint32(msg[12:], uint32(os.Getpid()))
	ne.PutUint32(msg[16:], cnIdxProc)
	ne.PutUint32(msg[20:], cnValProc)
	ne.PutUint16(msg[32:], 4)
	ne.PutUint32(msg[36:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		e.close()
		return nil, fmt.Errorf("listen to process events: %w", err)
	}
	return e, nil
}

func (e *procEvents) close() {
	if e != nil && e.fd >= 0 {
		unix.Close(e.fd)
		e.fd = -1
	}
}

// restart SIGKILLs victim and waits until a child of parent execs exe. It
// returns that child and the time from just before the kill to its exec.
// drain drops every queued event, to the end: an overflow (ENOBUFS,
// reported once) leaves the queue full, and stopping there left it full of
// old events, so that the exec of a restart was dropped unreported (the
// first flood run after the N = 1000 cycles, which read no events, "did not
// come back" while status showed the victim restarted). A no-op on nil.
func (e *procEvents) drain() {
	if e == nil {
		return
	}
	for {
		n, _, err := unix.Recvfrom(e.fd, e.buf, unix.MSG_DONTWAIT)
		if (err == nil && n > 0) || errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EINTR) {
			continue
		}
		return
	}
}

func (e *procEvents) restart(victim, parent int, exe string, limit time.Duration) (int, time.Duration, error) {
	e.drain()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, 0, err
	}
	start := ts.Nano()
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		return 0, 0, fmt.Errorf("kill %d: %w", victim, err)
	}
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		pfd := []unix.PollFd{{Fd: int32(e.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(time.Until(end).Milliseconds())+1); err != nil && err != unix.EINTR {
			return 0, 0, fmt.Errorf("poll: %w", err)
		}
		n, _, err := unix.Recvfrom(e.fd, e.buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ENOBUFS) {
			return 0, 0, errEventsLost // the exec may be among them
		}
		if err != nil {
			return 0, 0, fmt.Errorf("read process events: %w", err)
		}
		for _, ev := range execEvents(e.buf[:n]) {
			if ev.at < start || ppidOf(ev.pid) != parent || exeOf(ev.pid) != exe {
				continue
			}
			return ev.pid, time.Duration(ev.at - start), nil
		}
	}
	return 0, 0, fmt.Errorf("no new child of %d within %v after killing %d", parent, limit, victim)
}

// errEventsLost: the socket overflowed; the restart cannot be timed.
var errEventsLost = errors.New("process events lost")

type execEvent struct {
	pid int   // thread group id
	at  int64 // CLOCK_MONOTONIC ns
}

// execEvents parses the exec events in one datagram of netlink messages.
func execEvents(b []byte) []execEvent {
	ne := binary.NativeEndian
	var out []execEvent
	for len(b) >= nlHdrLen {
		l := int(ne.Uint32(b))
		if l < nlHdrLen || l > len(b) {
			break
		}
		m := b[nlHdrLen:l]
		// cn_msg, then struct proc_event: what, cpu, timestamp_ns, then
		// exec_proc_event {process_pid, process_tgid}.
		if len(m) >= cnMsgLen+24 {
			ev := m[cnMsgLen:]
			if ne.Uint32(ev) == procEventExec {
				out = append(out, execEvent{pid: int(ne.Uint32(ev[20:])), at: int64(ne.Uint64(ev[8:]))})
			}
		}
		adv := (l + 3) &^ 3 // NLMSG_ALIGN
		if adv > len(b) {
			break
		}
		b = b[adv:]
	}
	return out
}

// ppidOf is the parent process of pid (0 when gone).
func ppidOf(pid int) int {
	f := statFields(pid) // state, ppid, ...
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// awaitRestart SIGKILLs victim and waits for parent's new child running
// exe. Timed from process events when ev is set; else (or when events were
// lost, timed false) found by polling parent's children lists.
func awaitRestart(ev *procEvents, victim, parent int, exe string) (newPid int, lat time.Duration, timed bool, err error) {
	const limit = 30 * time.Second
	if victim <= 0 {
		return 0, 0, false, fmt.Errorf("no victim to kill (pid %d)", victim) // kill(0) would signal our own group
	}
	before := map[int]bool{}
	for _, c := range childrenOf(parent) {
		before[c] = true
	}
	start := time.Now()
	if ev != nil {
		newPid, lat, err = ev.restart(victim, parent, exe, limit)
		if !errors.Is(err, errEventsLost) {
			return newPid, lat, err == nil, err
		}
	} else if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		return 0, 0, false, fmt.Errorf("kill %d: %w", victim, err)
	}
	for time.Since(start) < limit {
		for _, c := range childrenOf(parent) {
			if !before[c] && exeOf(c) == exe {
				return c, time.Since(start), ev == nil, nil
			}
		}
		time.Sleep(pollEvery)
	}
	return 0, 0, false, fmt.Errorf("no new child of %d within %v after killing %d", parent, limit, victim)
}
