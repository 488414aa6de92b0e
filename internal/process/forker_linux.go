package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Forker forks children from OS threads whose descriptor table is their
// own and nearly empty.
//
// Why: a fork copies the forking thread's descriptor table, and the child's
// exec then closes every close-on-exec descriptor in it one by one. The
// supervisor holds three per running child (two pipe read ends and a
// pidfd), so at 1000 children each start cost the kernel about 0.7 ms more
// than at none, and a restart was slower than runsv's, which holds a
// handful. Each forker thread calls unshare(CLONE_FILES) once and closes
// what it inherited, so its forks copy a few descriptors whatever the
// number of children.
//
// How descriptors cross between the tables: a forker thread creates the
// child's output pipes in its own table, forks, and sends the read ends
// over a socket pair (SCM_RIGHTS) that is open in both tables, then closes
// its copies; the caller receives them into the shared table and opens the
// child's pidfd with pidfd_open (the child cannot have been reaped yet, so
// the pid is still the child's). One hand-over to the thread and one back
// per child. (pidfd_getfd would save the socket, but systemd's
// @system-service filter, which the unit uses, denies it.)
//
// A forker goroutine stays locked to its thread for its whole life and
// never unlocks it: the thread must not run other goroutines with a
// different table. When it returns, Go ends the thread. A child's
// Pdeathsig fires when the thread that forked it ends, and the thread may
// have forked children before it was a forker's (exec.Cmd forks from
// whatever thread runs the caller): Close ends a thread only when no child
// of it is alive, else it leaves it parked.
type Forker struct {
	jobs    chan *forkJob
	closed  chan struct{} // closed by Close: threads and callers give up
	once    sync.Once
	threads []*forkThread
}

type forkThread struct {
	tid   int
	sock  int           // the shared table's end of the socket pair
	peer  int           // the thread's end (a number in its table)
	taken chan struct{} // cap 1: the caller received the last job's read ends
	done  chan struct{} // closed when it serves no more
}

// forkJob is one child to fork; the thread fills in the result and sends
// on reply.
type forkJob struct {
	path   string
	argv   []string
	env    []string
	dir    string
	pipes  bool    // stdout and stderr to pipes (else /dev/null)
	reaper *Reaper // told about the child before it can be mistaken for an orphan

	pid    int
	err    error
	thread *forkThread // that forked it (and sent the read ends)
	reply  chan struct{}
}

// NewForker starts n forker threads sharing one queue of children to
// fork. It fails where the kernel lacks what it needs; callers then fork
// as before, from any thread.
func NewForker(n int) (*Forker, error) {
	// The runtime's own descriptors (its epoll set and eventfd) must exist
	// before a table is copied, so that they keep their numbers in both
	// tables: make sure the network poller is initialised.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	f := &Forker{jobs: make(chan *forkJob), closed: make(chan struct{})}
	for range max(n, 1) {
		sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("forker: socketpair: %w", err)
		}
		t := &forkThread{sock: sp[0], peer: sp[1], taken: make(chan struct{}, 1), done: make(chan struct{})}
		ready := make(chan error, 1)
		go t.run(f.jobs, f.closed, ready)
		err = <-ready
		unix.Close(sp[1]) // the thread has its own copy now (or failed)
		if err != nil {
			unix.Close(sp[0])
			<-t.done
			f.Close()
			return nil, err
		}
		f.threads = append(f.threads, t)
	}
	return f, nil
}

func (f *Forker) usable() bool { return f != nil }

// Close ends the forker threads; see Forker about their children. A
// start that comes later fails.
func (f *Forker) Close() error {
	if f == nil {
		return nil
	}
	f.once.Do(func() {
		close(f.closed)
		for _, t := range f.threads {
			<-t.done
			unix.Close(t.sock)
		}
	})
	return nil
}

// run is a forker thread. It returns only when the Forker closes, and the
// thread then ends with it (it is still locked) unless it has a live child.
func (t *forkThread) run(jobs <-chan *forkJob, closed <-chan struct{}, ready chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// This is the main thread: its table is the one /proc/<pid>/fd
		// shows, which operators and tools read as the supervisor's.
		// Leave it shared. While it stays locked here the new goroutine
		// cannot run on it.
		moved := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(moved)
			t.serve(jobs, closed, ready)
		}()
		<-moved
		runtime.UnlockOSThread()
		return
	}
	t.serve(jobs, closed, ready)
}

// serve runs on a locked thread other than the main one.
func (t *forkThread) serve(jobs <-chan *forkJob, closed <-chan struct{}, ready chan<- error) {
	defer func() {
		close(t.done)
		if !threadMayEnd() {
			// A child of this thread still runs: ending the thread would
			// fire its Pdeathsig. Park instead (the thread stays locked).
			select {}
		}
	}()
	if err := unix.Unshare(unix.CLONE_FILES); err != nil {
		ready <- fmt.Errorf("forker thread: unshare(CLONE_FILES): %w", err)
		return
	}
	t.tid = unix.Gettid()
	if err := closeInherited(t.peer); err != nil {
		ready <- fmt.Errorf("forker thread: %w", err)
		return
	}
	devnull, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		ready <- fmt.Errorf("forker thread: %w", err)
		return
	}
	ready <- nil
	for {
		var j *forkJob
		select {
		case j = <-jobs:
		case <-closed:
			return
		}
		j.thread = t
		j.err = t.fork(j, devnull)
		j.reply <- struct{}{}
		if j.err == nil && j.pipes {
			// The next job's read ends must not overtake these in the socket.
			<-t.taken
		}
	}
}

// fork runs on a forker thread.
func (t *forkThread) fork(j *forkJob, devnull int) error {
	files := []uintptr{uintptr(devnull), uintptr(devnull), uintptr(devnull)}
	var out, errp [2]int
	if j.pipes {
		if err := unix.Pipe2(out[:], unix.O_CLOEXEC); err != nil {
			return fmt.Errorf("stdout pipe: %w", err)
		}
		if err := unix.Pipe2(errp[:], unix.O_CLOEXEC); err != nil {
			unix.Close(out[0])
			unix.Close(out[1])
			return fmt.Errorf("stderr pipe: %w", err)
		}
		defer func() {
			for _, fd := range []int{out[0], out[1], errp[0], errp[1]} {
				unix.Close(fd) // in flight in the socket, the read ends stay open
			}
		}()
		files[1], files[2] = uintptr(out[1]), uintptr(errp[1])
	}
	if j.reaper != nil {
		j.reaper.startBegin()
	}
	pid, err := syscall.ForkExec(j.path, j.argv, &syscall.ProcAttr{Dir: j.dir, Env: j.env, Files: files,
		Sys: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}})
	if err == nil && j.reaper != nil {
		j.reaper.add(pid)
	}
	if j.reaper != nil {
		j.reaper.startEnd()
	}
	if err != nil {
		return &os.PathError{Op: "fork/exec", Path: j.path, Err: err}
	}
	if j.pipes {
		if err := unix.Sendmsg(t.peer, []byte{0}, unix.UnixRights(out[0], errp[0]), nil, 0); err != nil {
			endChild(pid, j.reaper)
			return fmt.Errorf("hand over the output pipes: %w", err)
		}
	}
	j.pid = pid
	return nil
}

// threadMayEnd reports whether the calling thread has no child left (in
// /proc/thread-self/children), so that ending it fires no Pdeathsig.
func threadMayEnd() bool {
	fd, err := unix.Open("/proc/thread-self/children", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var b [64]byte
	for {
		n, err := unix.Read(fd, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false
		}
		for _, c := range b[:n] {
			if c >= '0' && c <= '9' {
				return false
			}
		}
		if n == 0 {
			return true
		}
	}
}

// closeInherited closes, on the calling thread after its unshare, every
// descriptor copied from the shared table except 0-2, keep and the runtime's
// epoll set and eventfd (which the runtime uses by number from any thread).
// A copy left open here would keep a file, a socket or a pipe's write end
// open after the rest of the supervisor closed it.
func closeInherited(keep int) error {
	dir, err := unix.Open("/proc/thread-self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("list descriptors: %w", err)
	}
	var fds []int
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(dir, buf)
		if err != nil {
			unix.Close(dir)
			return fmt.Errorf("list descriptors: %w", err)
		}
		if n == 0 {
			break
		}
		var names []string
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
		for _, name := range names {
			if fd, err := strconv.Atoi(name); err == nil && fd > 2 && fd != dir && fd != keep {
				fds = append(fds, fd)
			}
		}
	}
	unix.Close(dir)
	link := make([]byte, 64)
	for _, fd := range fds {
		n, err := unix.Readlink("/proc/thread-self/fd/"+strconv.Itoa(fd), link)
		if err != nil {
			continue
		}
		switch string(link[:n]) {
		case "anon_inode:[eventpoll]", "anon_inode:[eventfd]":
			continue
		}
		unix.Close(fd)
	}
	return nil
}

// spawned is a child started through a Forker, its descriptors in the
// shared table.
type spawned struct {
	pid, pidfd int
	rOut, rErr int // -1 without pipes
}

// spawn forks and execs on a forker thread. Once a thread took the job the
// child is started whatever ctx does.
func (f *Forker) spawn(ctx context.Context, j *forkJob) (spawned, error) {
	j.reply = make(chan struct{})
	select {
	case f.jobs <- j:
	case <-ctx.Done():
		return spawned{}, ctx.Err()
	case <-f.closed:
		return spawned{}, errors.New("forker closed")
	}
	<-j.reply
	if j.err != nil {
		return spawned{}, j.err
	}
	s := spawned{pid: j.pid, pidfd: -1, rOut: -1, rErr: -1}
	var err error
	if j.pipes {
		s.rOut, s.rErr, err = recvPipes(j.thread.sock)
		j.thread.taken <- struct{}{}
	}
	if err == nil {
		if s.pidfd, err = unix.PidfdOpen(j.pid, 0); err != nil {
			err = fmt.Errorf("pidfd_open %d: %w", j.pid, err)
		}
	}
	if err != nil {
		// Started but not watchable: end it rather than lose track of it.
		for _, fd := range []int{s.rOut, s.rErr} {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
		endChild(j.pid, j.reaper)
		return spawned{}, err
	}
	return s, nil
}

// endChild kills and reaps a child that started but cannot be supervised.
func endChild(pid int, r *Reaper) {
	_ = unix.Kill(-pid, unix.SIGKILL)
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &ws, 0, nil)
	if r != nil {
		r.remove(pid)
	}
}

// recvPipes receives the two read ends a forker thread sent.
func recvPipes(sock int) (rOut, rErr int, err error) {
	oob := make([]byte, unix.CmsgSpace(2*4))
	var b [1]byte
	for {
		_, oobn, _, _, err := unix.Recvmsg(sock, b[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, -1, fmt.Errorf("receive the output pipes: %w", err)
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return -1, -1, fmt.Errorf("receive the output pipes: bad control message (%v)", err)
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 2 {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return -1, -1, fmt.Errorf("receive the output pipes: %d descriptors (%v)", len(fds), err)
		}
		return fds[0], fds[1], nil
	}
}

// startForked is Start's fork through spec.Forker. It behaves as
// exec.Cmd.Start does for the same Spec: the name is looked up in PATH
// when it has no slash, argv[0] is the name as given, a nil Env means the
// supervisor's, and of two entries for one variable the later wins.
func startForked(ctx context.Context, spec Spec) (*Process, *os.File, *os.File, error) {
	path, err := exec.LookPath(spec.Path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	env := spec.Env
	if env == nil {
		env = os.Environ()
	}
	j := &forkJob{path: path, argv: append([]string{spec.Path}, spec.Args...), env: dedupEnv(env), dir: spec.Dir,
		pipes: spec.Output != nil, reaper: spec.Reaper}
	s, err := spec.Forker.spawn(ctx, j)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	p := &Process{spec: spec, pid: s.pid, pidfd: s.pidfd, released: true, done: make(chan struct{})}
	var rOut, rErr *os.File
	if s.rOut >= 0 {
		rOut, rErr = os.NewFile(uintptr(s.rOut), "|0"), os.NewFile(uintptr(s.rErr), "|0")
	}
	return p, rOut, rErr, nil
}

// dedupEnv keeps the last entry of each variable, in the place of that
// last entry (exec.Cmd does the same; a child's getenv would see the first).
func dedupEnv(env []string) []string {
	seen := make(map[string]struct{}, len(env))
	out := make([]string, len(env))
	i := len(out)
	for j := len(env) - 1; j >= 0; j-- {
		k, _, _ := strings.Cut(env[j], "=")
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = struct{}{}
		i--
		out[i] = env[j]
	}
	return out[i:]
}
