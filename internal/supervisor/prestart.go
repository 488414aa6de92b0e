package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
	"github.com/openim-supervisor/openim-supervisor/internal/process"
)

// toolLines is how many of a tool's last lines go into its error.
const toolLines = 20

// preStart runs the pre-start tools, one after another, each to completion.
// Each tool's output goes where the instances' goes (`logs NAME`, the
// journal with OPENIM_PROCESS=NAME) and its last lines into the error when
// it fails or times out. Its status (pid, deadline, last line, attempt)
// shows in the Snapshot while it runs.
type preStart struct {
	log        *slog.Logger
	capture    *logs.Capture
	ring       *logs.Ring
	changed    func()
	components []Component // awaited before check-component (see componentTool)

	mu    sync.Mutex
	tools []ToolStatus
}

func newPreStart(log *slog.Logger, c *logs.Capture, ring *logs.Ring, changed func(), specs []config.ToolSpec, components []Component) *preStart {
	p := &preStart{log: log, capture: c, ring: ring, changed: changed, components: components}
	for _, t := range specs {
		p.tools = append(p.tools, ToolStatus{Name: t.Name, State: ToolPending})
	}
	return p
}

// status returns a copy of the tools' status.
func (p *preStart) status() []ToolStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]ToolStatus(nil), p.tools...)
	for i := range out {
		if e := out[i].Exit; e != nil {
			c := *e
			out[i].Exit = &c
		}
	}
	return out
}

func (p *preStart) update(i int, f func(*ToolStatus)) {
	p.mu.Lock()
	f(&p.tools[i])
	p.mu.Unlock()
	p.changed()
}

// current is the running tool, for the phase detail and deadline.
func (p *preStart) current() (ToolStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tools {
		if t.State == ToolRunning {
			return t, true
		}
	}
	return ToolStatus{}, false
}

func (p *preStart) run(ctx context.Context, l *launcher, specs []config.ToolSpec) error {
	for i, t := range specs {
		if err := p.runOne(ctx, l, i, t); err != nil {
			return err
		}
	}
	return nil
}

func (p *preStart) runOne(ctx context.Context, l *launcher, i int, t config.ToolSpec) error {
	p.log.Info("running pre-start tool", "tool", t.Name, "timeout", t.Timeout)
	id := t.Name + ":0"
	var deadline time.Time
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
		deadline, _ = ctx.Deadline()
	}
	for {
		again, err := p.runTool(ctx, l, i, t, id, deadline)
		if !again {
			return err
		}
		p.log.Info("pre-start: every component is reachable now; "+t.Name+" started again (it tries only once a second)", "tool", t.Name)
	}
}

// runTool runs the tool once. For check-component it also watches the
// components itself (see componentTool): when one that was down becomes
// reachable while the tool still runs, it stops the tool and reports
// again, so that a fresh start finds every component at its first try.
func (p *preStart) runTool(ctx context.Context, l *launcher, i int, t config.ToolSpec, id string, deadline time.Time) (again bool, err error) {
	watch, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	lines := p.ring.Follow(watch, id) // before the start: no line is missed
	q := p.capture.Queue(t.Name, 0, logs.QueueOptions{})
	started := time.Now()
	proc, err := l.start(ctx, "tool:"+t.Name, process.Spec{
		Path: t.Path, Args: t.Args, Env: process.Environ(l.baseEnv, t.Env),
		StopSignal: string(t.StopSignal), StopTimeout: t.StopTimeout, Output: q,
	})
	if err != nil {
		err = fmt.Errorf("pre-start tool %s: %w", t.Name, err)
		p.update(i, func(s *ToolStatus) { s.State, s.Error = ToolFailed, err.Error() })
		return false, err
	}
	p.update(i, func(s *ToolStatus) {
		s.State, s.PID, s.StartedAt, s.Deadline = ToolRunning, proc.PID(), started, deadline
	})
	watched := make(chan struct{})
	go func() { defer close(watched); p.watch(i, lines) }()

	var reachable <-chan struct{}
	if t.Name == componentTool && len(p.components) > 0 {
		cctx, stopComponents := context.WithCancel(ctx)
		defer stopComponents()
		reachable = cameUp(cctx, p.components)
	}
	var ex process.Exit
	var timedOut error
	select {
	case <-proc.Done():
		ex = proc.Exit()
	case <-ctx.Done():
		timedOut = ctx.Err()
		_ = proc.Stop(context.Background()) // the stop ladder, with the defaults' signal and timeout
		ex = proc.Exit()
	case <-reachable:
		select {
		case <-proc.Done(): // it ended meanwhile: take its result
			ex = proc.Exit()
		default:
			again = true
			_ = proc.Stop(context.Background())
			ex = proc.Exit()
		}
	}
	l.ended("tool:"+t.Name, proc.PID())
	select { // the group was killed with the leader, so EOF comes promptly
	case <-proc.OutputDone():
	case <-time.After(2 * time.Second):
	}
	p.capture.Flush()
	stopWatch()
	<-watched
	if again {
		return true, nil
	}
	last := &Exit{Code: ex.Code, Signal: ex.Signal, Time: ex.Time}
	tail := p.tail(id)
	switch {
	case timedOut != nil:
		st := p.toolStatus(i)
		what := fmt.Sprintf("did not finish within its timeout (%s)", t.Timeout)
		if st.Attempt > 0 {
			what += fmt.Sprintf(" after %d attempts", st.Attempt)
		}
		err = fmt.Errorf("pre-start tool %s %s; stopped it (%s); its last output:%s", t.Name, what, ex, tail)
	case ex.Code != 0:
		err = fmt.Errorf("pre-start tool %s failed (%s) after %s; its last output:%s", t.Name, ex,
			ex.Ran.Round(time.Millisecond), tail)
	}
	if err != nil {
		p.update(i, func(s *ToolStatus) { s.State, s.PID, s.Exit, s.Error = ToolFailed, 0, last, err.Error() })
		return false, err
	}
	p.update(i, func(s *ToolStatus) { s.State, s.PID, s.Exit = ToolDone, 0, last })
	p.log.Info("pre-start tool done", "tool", t.Name, "elapsed", ex.Ran.Round(time.Millisecond))
	return false, nil
}

func (p *preStart) toolStatus(i int) ToolStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tools[i]
}

func (p *preStart) tail(id string) string {
	var b strings.Builder
	for _, l := range p.ring.Tail(id, toolLines) {
		b.WriteString("\n  ")
		b.WriteString(l.Text)
	}
	if b.Len() == 0 {
		return "\n  (no output)"
	}
	return b.String()
}

// checkFailed matches OpenIM check-component's line for a component that is
// not reachable yet; it prints one per component and try.
var checkFailed = regexp.MustCompile(`^(\S+) check failed`)

// watch follows a tool's output: the last line, and the attempt number
// where the output shows one (check-component tries once a second, 180
// times, printing "NAME check failed: ..." for each component still down).
func (p *preStart) watch(i int, lines <-chan logs.Line) {
	fails := map[string]int{}
	for l := range lines {
		attempt := 0
		if m := checkFailed.FindStringSubmatch(l.Text); m != nil {
			fails[m[1]]++
			for _, n := range fails {
				attempt = max(attempt, n+1)
			}
		}
		text := l.Text
		if len(text) > 200 {
			text = text[:200] + "..."
		}
		p.update(i, func(s *ToolStatus) {
			s.LastLine = text
			if attempt > s.Attempt {
				s.Attempt = attempt
			}
		})
	}
}
