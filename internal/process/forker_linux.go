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
	"syscall"

	"golang.org/x/sys/unix"
)

// Forker forks children from an OS thread whose descriptor table is its
// own and nearly empty.
//
// Why: a fork copies the forking thread's descriptor table, and the child's
// exec then closes every close-on-exec descriptor in it one by one. The
// supervisor holds three per running child (two pipe read ends and a
// pidfd), so at 1000 children each start cost the kernel about 0.7 ms more
// than at none, and a restart was slower than runsv's, which holds a
// handful. The forker's thread calls unshare(CLONE_FILES) once and closes
// what it inherited, so its forks copy a few descriptors whatever the
// number of children.
//
// How the descriptors cross between the two tables: the forker creates a
// child's output pipes in its own table and forks; the caller, on any other
// thread (the shared table), copies the read ends with pidfd_getfd through
// a pidfd of the forker's thread (PIDFD_THREAD, Linux 6.9), opens the
// child's pidfd with pidfd_open (the child cannot be reaped meanwhile, so
// the pid is still the child's), and the forker then closes its copies.
//
// The forker's goroutine stays locked to its thread for its whole life and
// never unlocks it: the thread must not run other goroutines with a
// different table. When it returns, Go ends the thread. A child's
// Pdeathsig fires when the thread that forked it ends, and the thread may
// have forked children before it was the forker's (exec.Cmd forks from
// whatever thread runs the caller): Close ends the thread only when no
// child of it is alive, else it leaves it parked.
type Forker struct {
	jobs  chan *forkJob
	done  chan struct{} // closed when the thread is gone
	tid   int
	pidfd int // of the forker's thread, in the shared table
}

// forkJob is one child to fork. The forker fills in the result and sends on
// reply; the caller copies what it needs and sends on reply again, after
// which the forker closes its copies.
type forkJob struct {
	path  string
	argv  []string
	env   []string
	dir   string
	pipes bool // stdout and stderr to pipes (else /dev/null)

	pid        int
	rOut, rErr int // read ends, in the forker's table
	err        error
	reply      chan struct{}
}

// pidfdThread is PIDFD_THREAD (O_EXCL): a pidfd for one thread, not for
// the thread group.
const pidfdThread = unix.O_EXCL

// NewForker starts the forker's thread. It fails where the kernel lacks
// what it needs (unshare, pidfd_getfd, PIDFD_THREAD); callers then fork as
// before, from any thread.
func NewForker() (*Forker, error) {
	// The runtime's own descriptors (its epoll set and eventfd) must exist
	// before the table is copied, so that they keep their numbers in both
	// tables: make sure the network poller is initialised.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	f := &Forker{jobs: make(chan *forkJob), done: make(chan struct{}), pidfd: -1}
	ready := make(chan forkerReady, 1)
	go f.run(ready)
	r := <-ready
	if r.err != nil {
		<-f.done
		return nil, r.err
	}
	fd, err := unix.PidfdOpen(f.tid, pidfdThread)
	if err == nil {
		// Prove that pidfd_getfd works here (a seccomp filter may deny
		// it) on the forker's /dev/null.
		var cp int
		if cp, err = unix.PidfdGetfd(fd, r.devnull, 0); err == nil {
			unix.Close(cp)
		} else {
			unix.Close(fd)
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("forker thread: pidfd: %w", err)
	}
	f.pidfd = fd
	return f, nil
}

type forkerReady struct {
	devnull int // in the forker's table
	err     error
}

func (f *Forker) usable() bool { return f != nil }

// Close ends the forker's thread; see Forker about its children.
func (f *Forker) Close() error {
	if f == nil {
		return nil
	}
	select {
	case <-f.done:
	default:
		close(f.jobs)
		<-f.done
	}
	if f.pidfd >= 0 {
		unix.Close(f.pidfd)
		f.pidfd = -1
	}
	return nil
}

// run is the forker's thread. It returns only when jobs is closed, and the
// thread then ends with it (it is still locked).
func (f *Forker) run(ready chan<- forkerReady) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// This is the main thread, whose table /proc/<pid>/fd shows (and
		// what tools and operators read as the supervisor's): leave it
		// shared. While it stays locked here the new goroutine cannot run
		// on it.
		moved := make(chan struct{})
		go f.runMoved(ready, moved)
		<-moved
		runtime.UnlockOSThread()
		return
	}
	f.serve(ready)
}

func (f *Forker) runMoved(ready chan<- forkerReady, moved chan<- struct{}) {
	runtime.LockOSThread()
	close(moved)
	f.serve(ready)
}

// serve runs on a locked thread other than the main one.
func (f *Forker) serve(ready chan<- forkerReady) {
	defer func() {
		close(f.done)
		if !threadMayEnd() {
			// A child of this thread still runs: ending the thread would
			// fire its Pdeathsig. Park instead (the thread stays locked).
			select {}
		}
	}()
	if err := unix.Unshare(unix.CLONE_FILES); err != nil {
		ready <- forkerReady{err: fmt.Errorf("forker thread: unshare(CLONE_FILES): %w", err)}
		return
	}
	f.tid = unix.Gettid()
	if err := closeInherited(); err != nil {
		ready <- forkerReady{err: fmt.Errorf("forker thread: %w", err)}
		return
	}
	devnull, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		ready <- forkerReady{err: fmt.Errorf("forker thread: %w", err)}
		return
	}
	ready <- forkerReady{devnull: devnull}
	for j := range f.jobs {
		f.fork(j, devnull)
		j.reply <- struct{}{}
		<-j.reply // the caller has its copies
		if j.err == nil && j.pipes {
			unix.Close(j.rOut)
			unix.Close(j.rErr)
		}
	}
}

// fork runs on the forker's thread.
func (f *Forker) fork(j *forkJob, devnull int) {
	files := []uintptr{uintptr(devnull), uintptr(devnull), uintptr(devnull)}
	var out, errp [2]int
	if j.pipes {
		if err := unix.Pipe2(out[:], unix.O_CLOEXEC); err != nil {
			j.err = fmt.Errorf("stdout pipe: %w", err)
			return
		}
		if err := unix.Pipe2(errp[:], unix.O_CLOEXEC); err != nil {
			unix.Close(out[0])
			unix.Close(out[1])
			j.err = fmt.Errorf("stderr pipe: %w", err)
			return
		}
		files[1], files[2] = uintptr(out[1]), uintptr(errp[1])
	}
	pid, err := syscall.ForkExec(j.path, j.argv, &syscall.ProcAttr{Dir: j.dir, Env: j.env, Files: files,
		Sys: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}})
	if j.pipes {
		unix.Close(out[1])
		unix.Close(errp[1])
		if err != nil {
			unix.Close(out[0])
			unix.Close(errp[0])
		}
	}
	if err != nil {
		j.err = &os.PathError{Op: "fork/exec", Path: j.path, Err: err}
		return
	}
	j.pid, j.rOut, j.rErr = pid, out[0], errp[0]
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
// descriptor copied from the shared table except 0-2 and the runtime's
// epoll set and eventfd (which the runtime uses by number from any thread).
// A copy left open here would keep a file, a socket or a pipe's write end
// open after the rest of the supervisor closed it.
func closeInherited() error {
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
			if fd, err := strconv.Atoi(name); err == nil && fd > 2 && fd != dir {
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
	pid        int
	pidfd      int
	rOut, rErr int // -1 without pipes
}

// spawn forks and execs path on the forker's thread. Once the job is taken
// the child is started whatever ctx does.
func (f *Forker) spawn(ctx context.Context, path string, argv, env []string, dir string, pipes bool) (spawned, error) {
	j := &forkJob{path: path, argv: argv, env: env, dir: dir, pipes: pipes, reply: make(chan struct{})}
	select {
	case f.jobs <- j:
	case <-ctx.Done():
		return spawned{}, ctx.Err()
	case <-f.done:
		return spawned{}, errors.New("forker closed")
	}
	<-j.reply
	defer func() { j.reply <- struct{}{} }()
	if j.err != nil {
		return spawned{}, j.err
	}
	s := spawned{pid: j.pid, pidfd: -1, rOut: -1, rErr: -1}
	err := s.take(f.pidfd, j)
	if err != nil {
		s.close()
		// Started but not usable: end it rather than lose track of it.
		_ = unix.Kill(-j.pid, unix.SIGKILL)
		_ = unix.Kill(j.pid, unix.SIGKILL)
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(j.pid, &ws, 0, nil)
		return spawned{}, err
	}
	return s, nil
}

// take copies the child's descriptors into the shared table.
func (s *spawned) take(forker int, j *forkJob) error {
	var err error
	if s.pidfd, err = unix.PidfdOpen(j.pid, 0); err != nil {
		return fmt.Errorf("pidfd_open %d: %w", j.pid, err)
	}
	if !j.pipes {
		return nil
	}
	if s.rOut, err = unix.PidfdGetfd(forker, j.rOut, 0); err != nil {
		return fmt.Errorf("pidfd_getfd: %w", err)
	}
	if s.rErr, err = unix.PidfdGetfd(forker, j.rErr, 0); err != nil {
		return fmt.Errorf("pidfd_getfd: %w", err)
	}
	return nil
}

func (s *spawned) close() {
	for _, fd := range []*int{&s.pidfd, &s.rOut, &s.rErr} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
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
	argv := append([]string{spec.Path}, spec.Args...)
	if spec.Reaper != nil {
		spec.Reaper.startBegin()
	}
	s, err := spec.Forker.spawn(ctx, path, argv, dedupEnv(env), spec.Dir, spec.Output != nil)
	if err == nil && spec.Reaper != nil {
		spec.Reaper.add(s.pid)
	}
	if spec.Reaper != nil {
		spec.Reaper.startEnd()
	}
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
