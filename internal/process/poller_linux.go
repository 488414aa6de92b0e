package process

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// Poller watches the output pipes and exit (pidfd) of every child with one
// epoll set and one goroutine, instead of three goroutines per child: the
// memory target is ~25 KiB per child at 1000 children. Create it with
// NewPoller, pass it in Spec.Poller, Close it once every child is gone.
//
// Supervision comes before output: in each round the exits are handled
// before any pipe is read, and a pipe gets one read (up to a pipe's
// capacity) per round, so a child flooding its output delays neither
// another child's restart nor the other pipes. A pipe whose queue is full is
// taken out of the epoll set until the queue has room (logs.Queue.WhenRoom):
// the child then waits on its full pipe instead of the supervisor buffering
// without bound.
type Poller struct {
	epfd int
	wake int // eventfd: Close wakes the loop

	mu       sync.Mutex
	handlers map[int32]pollHandler
	closed   bool
	done     chan struct{}
	buf      []byte // read buffer, used only by the poller goroutine
}

// pollHandler is told that its fd is readable (or hung up). It runs on the
// poller goroutine and must tolerate spurious calls.
type pollHandler interface {
	ready(p *Poller, fd int)
}

// NewPoller starts the poller goroutine.
func NewPoller() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	p := &Poller{epfd: epfd, wake: wake, handlers: map[int32]pollHandler{}, done: make(chan struct{}),
		buf: make([]byte, readSize)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	go p.loop()
	return p, nil
}

// readSize is the most one pipe read takes per round: the default capacity
// of a Linux pipe, so a full pipe empties in one read.
const readSize = 256 << 10

// A read of floodRead bytes or more finds a pipe (nearly) full at its default 64 KiB: the
// child writes faster than one round reads. Such a pipe is grown to
// floodPipe, so that the child and the poller each wake once per floodPipe
// bytes rather than per 64 KiB. Best effort: the kernel refuses beyond
// fs.pipe-max-size or the user's pipe-user-pages-soft, and then the pipe
// stays as it is. Only a flooding child's pipe grows, and the kernel uses
// the pages only while they hold unread output.
const (
	floodRead = 60 << 10
	floodPipe = 1 << 20
)

func (p *Poller) usable() bool { return p != nil }

// watchPipe registers the read end of an output pipe (non-blocking).
func (p *Poller) watchPipe(fd int, w *logs.LineWriter, done func()) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	return p.add(fd, &pipeReader{w: w, done: done})
}

// watchExit registers a child's pidfd; proc.finish runs once it exited.
func (p *Poller) watchExit(fd int, proc *Process) error {
	return p.add(fd, &exitWatcher{proc: proc})
}

func (p *Poller) add(fd int, h pollHandler) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("poller closed")
	}
	p.handlers[int32(fd)] = h
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}); err != nil {
		delete(p.handlers, int32(fd))
		return fmt.Errorf("epoll_ctl add: %w", err)
	}
	return nil
}

// remove unregisters and closes fd (on the poller goroutine).
func (p *Poller) remove(fd int) {
	p.mu.Lock()
	delete(p.handlers, int32(fd))
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	p.mu.Unlock()
	unix.Close(fd)
}

func (p *Poller) loop() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	pipes := make([]pollHandler, 0, 128)
	fds := make([]int, 0, 128)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		// Exits first, then one read per ready pipe.
		pipes, fds = pipes[:0], fds[:0]
		for i := 0; i < n; i++ {
			fd := events[i].Fd
			if int(fd) == p.wake {
				return
			}
			p.mu.Lock()
			h := p.handlers[fd]
			p.mu.Unlock()
			switch h.(type) {
			case nil:
			case *exitWatcher:
				h.ready(p, int(fd))
			default:
				pipes, fds = append(pipes, h), append(fds, int(fd))
			}
		}
		for i, h := range pipes {
			h.ready(p, fds[i])
			pipes[i] = nil
		}
	}
}

// pause takes a pipe out of the epoll set (its queue is full).
func (p *Poller) pause(fd int) {
	p.mu.Lock()
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	p.mu.Unlock()
}

// resume puts a paused pipe back, unless it was closed meanwhile.
func (p *Poller) resume(fd int, h pollHandler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.handlers[int32(fd)] != h {
		return
	}
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)})
}

// Close stops the poller goroutine; children still registered are no
// longer watched.
func (p *Poller) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	var one = [8]byte{1}
	_, _ = unix.Write(p.wake, one[:])
	<-p.done
	p.mu.Lock()
	for fd := range p.handlers {
		unix.Close(int(fd))
	}
	p.handlers = nil
	p.mu.Unlock()
	unix.Close(p.wake)
	return unix.Close(p.epfd)
}

// pipeReader reads one output pipe of a child.
type pipeReader struct {
	w     *logs.LineWriter
	done  func()
	grown bool // asked the kernel for a larger pipe
}

// ready reads once: a full pipe empties in one read, and the next round
// comes back for more (epoll is level-triggered).
func (r *pipeReader) ready(p *Poller, fd int) {
	for {
		n, err := unix.Read(fd, p.buf)
		if n >= floodRead && !r.grown {
			r.grown = true
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, floodPipe)
		}
		if n > 0 {
			if r.w.Feed(p.buf[:n]) {
				p.pause(fd)
				r.w.WhenRoom(func() { p.resume(fd, r) })
			}
			return
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return
		}
		// EOF or error: every writer closed the pipe.
		p.remove(fd)
		r.w.Flush()
		r.done()
		return
	}
}

// exitWatcher waits for a child's pidfd to become readable (it exited).
type exitWatcher struct {
	proc *Process
}

func (x *exitWatcher) ready(p *Poller, fd int) {
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil); err == nil && siginfoPid(&info) == 0 {
		return // spurious: still running
	}
	p.remove(fd)
	x.proc.finish() // cmd.Wait returns at once: the child is a zombie
}
