// Package process runs one child: start it in its own process group (a Job
// Object on Windows), record how it exits, and stop it with the signal,
// timeout, SIGKILL ladder.
//
// Exactly one goroutine per child calls exec.Cmd.Wait; it records the Exit
// and closes the Done channel. Nothing polls.
package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// FinalWait bounds the wait after SIGKILL; Stop returns an error after it
// instead of hanging.
const FinalWait = 5 * time.Second

// Spec is what to run.
type Spec struct {
	Path string
	Args []string // without argv[0]
	// Env is the complete environment (see Environ).
	Env []string
	Dir string

	StopSignal  string        // TERM, INT, QUIT, HUP, KILL, USR1, USR2 ("" = TERM)
	StopTimeout time.Duration // before SIGKILL (0 = kill at once)

	// Output, when set, receives stdout and stderr line by line.
	Output *logs.Queue
	// Reaper, when set, is told about the child so that it never reaps it.
	Reaper *Reaper
	// Poller, when set (Linux), watches the pipes and the exit instead of
	// three goroutines per child.
	Poller *Poller
	// Forker, when set (Linux), forks the child from a thread whose
	// descriptor table holds a few descriptors, not the supervisor's
	// (see Forker).
	Forker *Forker
	// Readers, when set, counts the running output readers (Add before
	// they start, Done at EOF) so a caller can wait for the last lines.
	Readers *sync.WaitGroup
}

// Exit is how a run ended.
type Exit struct {
	Code   int    // exit code, 128+signal when killed by a signal
	Signal string // signal name without "SIG" when killed by a signal
	Time   time.Time
	Ran    time.Duration
}

// Signaled reports whether the process was killed by a signal.
func (e Exit) Signaled() bool { return e.Signal != "" }

func (e Exit) String() string {
	if e.Signal != "" {
		return fmt.Sprintf("killed by SIG%s", e.Signal)
	}
	return fmt.Sprintf("exit code %d", e.Code)
}

// scrubbed are removed from the supervisor's environment before it is
// given to children: they belong to the supervisor's own service manager.
var scrubbed = []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"}

// BaseEnv returns os.Environ() without the service-manager variables
// (NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*). Compute it once and share it.
func BaseEnv() []string {
	env := os.Environ()
	out := env[:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, s := range scrubbed {
			if k == s {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// Environ returns base followed by extra (later entries win in exec).
func Environ(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	out = append(out, base...)
	return append(out, extra...)
}

// Process is one started child.
type Process struct {
	spec    Spec
	cmd     *exec.Cmd // nil when started through a Forker
	pid     int
	pidfd   int // Linux: the child's pidfd until the poller or wait takes it; else -1
	started time.Time
	sys     sysProc

	done     chan struct{}
	exit     Exit // written before done is closed
	released bool // cmd.Process let go of its handle; finish reaps by pid

	outputDone chan struct{} // closed when both pipes hit EOF (nil without Output)
}

// Start starts the child. ctx only bounds the start itself: cancelling it
// later does not stop the child (use Stop).
//
// On Linux the child gets Pdeathsig SIGKILL, which the kernel fires when the
// *thread* that forked it exits (golang/go#27505). Go only ends an OS thread
// when a goroutine that called runtime.LockOSThread returns without
// unlocking; so never call Start from such a goroutine.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		p          *Process
		rOut, rErr *os.File
		err        error
	)
	if spec.Forker.usable() {
		p, rOut, rErr, err = startForked(ctx, spec)
	} else {
		p, rOut, rErr, err = startExec(spec)
	}
	if err != nil {
		return nil, err
	}
	p.started = time.Now()
	// Not needed after the start: do not keep a copy of the environment per child.
	p.spec.Env, p.spec.Args = nil, nil

	poll := spec.Poller.usable()
	if rOut != nil {
		p.outputDone = make(chan struct{})
		var open atomic.Int32
		open.Store(2)
		if spec.Readers != nil {
			spec.Readers.Add(2)
		}
		eof := func() {
			if open.Add(-1) == 0 {
				close(p.outputDone)
			}
			if spec.Readers != nil {
				spec.Readers.Done()
			}
		}
		for _, o := range []struct {
			f *os.File
			s logs.Stream
		}{{rOut, logs.Stdout}, {rErr, logs.Stderr}} {
			if poll && watchPipe(spec.Poller, o.f, spec.Output.LineWriter(o.s), eof) {
				continue
			}
			go func() {
				spec.Output.Consume(o.f, o.s)
				o.f.Close()
				eof()
			}()
		}
	}
	if !(poll && watchExit(spec.Poller, p)) {
		go p.wait()
	}
	return p, nil
}

// startExec is Start's fork with exec.Cmd, from the calling thread.
func startExec(spec Spec) (*Process, *os.File, *os.File, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = spec.Env
	cmd.Dir = spec.Dir
	cmd.SysProcAttr = sysProcAttr()

	var rOut, rErr, wOut, wErr *os.File
	if spec.Output != nil {
		var err error
		if rOut, wOut, err = pipe(); err != nil {
			return nil, nil, nil, fmt.Errorf("start %s: stdout pipe: %w", spec.Path, err)
		}
		if rErr, wErr, err = pipe(); err != nil {
			rOut.Close()
			wOut.Close()
			return nil, nil, nil, fmt.Errorf("start %s: stderr pipe: %w", spec.Path, err)
		}
		cmd.Stdout, cmd.Stderr = wOut, wErr
	}

	p := &Process{spec: spec, cmd: cmd, pidfd: -1, done: make(chan struct{})}
	if spec.Reaper != nil {
		spec.Reaper.startBegin()
	}
	err := cmd.Start()
	if err == nil {
		p.pid = cmd.Process.Pid
		if spec.Reaper != nil {
			spec.Reaper.add(p.pid)
		}
	}
	if spec.Reaper != nil {
		spec.Reaper.startEnd()
	}
	if wOut != nil { // the child has its copies
		wOut.Close()
		wErr.Close()
	}
	if err != nil {
		closePidfd(cmd.SysProcAttr)
		if rOut != nil {
			rOut.Close()
			rErr.Close()
		}
		return nil, nil, nil, fmt.Errorf("start %s: %w", spec.Path, err)
	}
	p.sys = afterStart(cmd)
	p.released = releaseHandle(cmd)
	p.pidfd = takePidfd(cmd.SysProcAttr)
	cmd.Env, cmd.Args = nil, nil
	return p, rOut, rErr, nil
}

// wait waits in its own goroutine, then finishes.
func (p *Process) wait() {
	waitExit(p)
	p.finish()
}

// finish is the only caller of cmd.Wait (or of wait4 for the pid, see
// releaseHandle), once the child exited: from the wait goroutine, or from
// the Poller when it watches the child.
func (p *Process) finish() {
	var ex Exit
	if p.released {
		ex.Code, ex.Signal = reapPid(p.pid)
	} else {
		err := p.cmd.Wait()
		if st := p.cmd.ProcessState; st != nil {
			ex.Code, ex.Signal = exitStatus(st)
		} else if err != nil {
			ex.Code = -1
		}
	}
	now := time.Now()
	if p.spec.Reaper != nil {
		p.spec.Reaper.remove(p.pid)
	}
	ex.Time, ex.Ran = now, now.Sub(p.started)
	// Leftover members of the group (grandchildren) go with the leader.
	p.sys.killGroup(p.pid)
	p.sys.release()
	p.exit = ex
	close(p.done)
}

// OutputDone is closed once stdout and stderr reached EOF (every writer,
// grandchildren included, closed them). Without Spec.Output it is closed.
func (p *Process) OutputDone() <-chan struct{} {
	if p.outputDone == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.outputDone
}

// PID of the child (also its process group ID on Unix).
func (p *Process) PID() int { return p.pid }

// StartTime is when the child was started.
func (p *Process) StartTime() time.Time { return p.started }

// Done is closed once the child exited and was reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exit returns how the child ended; valid after Done is closed.
func (p *Process) Exit() Exit {
	<-p.done
	return p.exit
}

// Wait waits for the child to exit or ctx to end.
func (p *Process) Wait(ctx context.Context) (Exit, error) {
	select {
	case <-p.done:
		return p.exit, nil
	case <-ctx.Done():
		return Exit{}, ctx.Err()
	}
}

// Exited reports whether the child is gone.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends a signal by name ("TERM", "KILL", ...) to the child's whole
// process group. It is a no-op once the child exited.
func (p *Process) Signal(name string) error {
	if p.Exited() {
		return nil
	}
	if err := p.sys.signalGroup(p.pid, name); err != nil && !p.Exited() {
		return fmt.Errorf("signal %s to process group %d: %w", name, p.pid, err)
	}
	return nil
}

// Kill sends SIGKILL to the whole group (terminates the Job on Windows).
func (p *Process) Kill() error { return p.Signal("KILL") }

// ErrStopTimeout is returned when a child did not go away even after SIGKILL.
var ErrStopTimeout = errors.New("process did not exit after SIGKILL")

// Stop sends the stop signal to the group, waits up to StopTimeout, then
// SIGKILLs the group and waits at most FinalWait. When ctx ends early the
// ladder jumps to SIGKILL.
func (p *Process) Stop(ctx context.Context) error {
	if p.Exited() {
		return nil
	}
	sig := p.spec.StopSignal
	if sig == "" {
		sig = "TERM"
	}
	if sig != "KILL" && p.spec.StopTimeout > 0 {
		if err := p.Signal(sig); err != nil {
			return err
		}
		t := time.NewTimer(p.spec.StopTimeout)
		select {
		case <-p.done:
			t.Stop()
			return nil
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err := p.Kill(); err != nil {
		return err
	}
	t := time.NewTimer(FinalWait)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		return fmt.Errorf("stop pid %d: %w", p.pid, ErrStopTimeout)
	}
}
