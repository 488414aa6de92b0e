package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// Backend is what the server controls: the supervisor.Manager in the
// program, anything with the same methods in tests.
type Backend interface {
	Status() []supervisor.InstanceStatus
	Start(ctx context.Context, t supervisor.Target) error
	Stop(ctx context.Context, t supervisor.Target) error
	Restart(ctx context.Context, t supervisor.Target, rolling bool) error
	// Signal sends a signal by name (HUP, USR1, ...) to the target's running instances.
	Signal(ctx context.Context, t supervisor.Target, signal string) error
	Ping(ctx context.Context) error
}

// LogSource gives the recent and new output lines of instances by ID
// ("name:index"): the supervisor's *logs.Ring.
type LogSource interface {
	// Tail returns up to n most recent lines, oldest first.
	Tail(id string, n int) []logs.Line
	// Follow returns a channel of new lines, closed when ctx ends.
	Follow(ctx context.Context, id string) <-chan logs.Line
}

// ErrInvalidConfig marks a reload error caused by the new config; the
// running processes were not touched.
var ErrInvalidConfig = errors.New("invalid config")

// Server answers control requests on a listener.
type Server struct {
	Backend Backend
	// Logs is the source of `logs`; nil answers that logs are unavailable.
	Logs LogSource
	// Reload re-reads the config file and applies it; nil refuses reload.
	Reload func(ctx context.Context) (supervisor.ReloadResult, error)
	// ReloadWith, when set, is used instead of Reload and gets the
	// request's options (all at once or rolling).
	ReloadWith func(ctx context.Context, o supervisor.ReloadOptions) (supervisor.ReloadResult, error)
	// Info describes the supervisor in status replies; may be nil.
	Info   func() SupervisorInfo
	Logger *slog.Logger

	// RequestTimeout bounds reading the request (default 10s).
	RequestTimeout time.Duration
}

// Serve accepts connections on ln until ctx ends, then closes ln and every
// open connection and waits for their handlers.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("control accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(ctx, conn)
		}()
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) handle(ctx context.Context, conn net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer conn.Close()
	// Close the connection when the server stops, so blocked writes end.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	timeout := s.RequestTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	br := bufio.NewReader(conn)
	var req Request
	if err := json.NewDecoder(io.LimitReader(br, 64<<10)).Decode(&req); err != nil {
		writeResp(conn, Response{Error: "bad request: " + err.Error(), Code: CodeBadRequest})
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	// The client sends nothing after its request: a read returning means it
	// went away, which cancels whatever it asked for (e.g. logs -f).
	go func() {
		var b [1]byte
		_, _ = conn.Read(b[:])
		cancel()
	}()

	switch req.Op {
	case OpStart, OpStop, OpRestart, OpReload, OpSignal: // operator actions: keep a trace
		s.logger().Info("control request", "op", req.Op, "targets", req.specs(), "rolling", req.Rolling, "signal", req.Signal)
	default:
		s.logger().Debug("control request", "op", req.Op, "targets", req.specs())
	}
	enc := json.NewEncoder(conn)
	if req.Op == OpLogs {
		if err := s.logs(ctx, req, enc); err != nil {
			_ = enc.Encode(errResponse(err))
		}
		return
	}
	emit := func(Progress) {}
	if req.Progress {
		emit = func(p Progress) { _ = enc.Encode(Response{Progress: &p}) }
	}
	resp := s.dispatch(ctx, req, emit)
	_ = enc.Encode(resp)
}

func writeResp(w io.Writer, r Response) { _ = json.NewEncoder(w).Encode(r) }

func errResponse(err error) Response {
	var re *RemoteError
	switch {
	case errors.As(err, &re):
		return Response{Error: re.Msg, Code: re.Code}
	case errors.Is(err, supervisor.ErrNoSuchTarget):
		return Response{Error: err.Error(), Code: CodeNotFound}
	case errors.Is(err, supervisor.ErrBadSignal):
		return Response{Error: err.Error(), Code: CodeBadRequest}
	case errors.Is(err, errors.ErrUnsupported):
		return Response{Error: err.Error(), Code: CodeUnsupported}
	case errors.Is(err, ErrInvalidConfig):
		return Response{Error: err.Error(), Code: CodeInvalidConfig}
	default:
		return Response{Error: err.Error(), Code: CodeFailed}
	}
}

func (s *Server) dispatch(ctx context.Context, req Request, emit func(Progress)) Response {
	switch req.Op {
	case OpPing:
		if err := s.Backend.Ping(ctx); err != nil {
			return errResponse(fmt.Errorf("ping: %w", err))
		}
		return Response{}
	case OpStatus:
		st := s.status()
		if specs := req.specs(); len(specs) > 0 {
			ts, err := selectTargets(specs, st.Instances)
			if err != nil {
				return errResponse(err)
			}
			keep := st.Instances[:0:0]
			for _, in := range st.Instances {
				if selects(ts, in) {
					keep = append(keep, in)
				}
			}
			st.Instances = keep
		}
		return Response{Status: st}
	case OpStart, OpStop, OpRestart, OpSignal:
		if req.Op == OpSignal && req.Signal == "" {
			return errResponse(&RemoteError{Code: CodeBadRequest, Msg: "signal: missing the signal's name (e.g. HUP, USR1)"})
		}
		all := s.Backend.Status()
		ts, err := selectTargets(req.specs(), all)
		if err != nil {
			return errResponse(err)
		}
		steps := plan(req.Op, req.Rolling, ts, all)
		for i, t := range steps {
			p := Progress{Op: req.Op, Target: t.String(), Step: i + 1, Total: len(steps)}
			emit(p)
			began := time.Now()
			switch req.Op {
			case OpStart:
				err = s.Backend.Start(ctx, t)
			case OpStop:
				err = s.Backend.Stop(ctx, t)
			case OpSignal:
				err = s.Backend.Signal(ctx, t, req.Signal)
			default:
				err = s.Backend.Restart(ctx, t, false)
			}
			p.Done, p.Took = true, time.Since(began)
			if err != nil {
				p.Error = err.Error()
			}
			emit(p)
			if err != nil {
				what := req.Op + " " + t.String()
				if req.Rolling {
					what = "rolling restart stopped at " + t.String()
				}
				return errResponse(fmt.Errorf("%s: %w", what, err))
			}
		}
		return Response{Status: s.status()}
	case OpReload:
		var res supervisor.ReloadResult
		var err error
		switch {
		case s.ReloadWith != nil:
			res, err = s.ReloadWith(ctx, supervisor.ReloadOptions{AllAtOnce: req.AllAtOnce})
		case s.Reload != nil:
			res, err = s.Reload(ctx)
		default:
			return Response{Error: "reload is not available", Code: CodeFailed}
		}
		if err != nil {
			return errResponse(err)
		}
		return Response{Reload: &res}
	default:
		return Response{Error: fmt.Sprintf("unknown operation %q", req.Op), Code: CodeBadRequest}
	}
}

// plan splits an operation on targets (config order) into the steps the
// Backend is called with: start in config order, stop in reverse (each
// process's instances together), restart process by process, and a rolling
// restart instance by instance, each ready before the next is touched.
func plan(op string, rolling bool, ts []supervisor.Target, all []supervisor.InstanceStatus) []supervisor.Target {
	if op == OpRestart && rolling {
		var out []supervisor.Target
		for _, s := range all {
			if selects(ts, s) {
				out = append(out, supervisor.Target{Name: s.Name, Index: s.Index})
			}
		}
		return out
	}
	if ts[0].All { // the Manager orders all itself (stop in reverse, start in order)
		return ts[:1]
	}
	out := append([]supervisor.Target(nil), ts...)
	if op == OpStop {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func (s *Server) status() *StatusReply {
	r := &StatusReply{Instances: s.Backend.Status()}
	if r.Instances == nil {
		r.Instances = []supervisor.InstanceStatus{}
	}
	if s.Info != nil {
		r.Supervisor = s.Info()
	}
	return r
}

func (s *Server) logs(ctx context.Context, req Request, enc *json.Encoder) error {
	if s.Logs == nil {
		return &RemoteError{Code: CodeFailed, Msg: "logs are not available"}
	}
	specs := req.specs()
	if len(specs) == 0 {
		specs = []string{"all"}
	}
	all := s.Backend.Status()
	ts, err := selectTargets(specs, all)
	if err != nil {
		return err
	}
	ids := instanceIDs(ts, all)
	n := req.Lines
	if n < 0 {
		n = 0
	}
	send := func(l logs.Line) error { return enc.Encode(Response{Line: wireLine(l)}) }
	if !req.Follow {
		var lines []logs.Line
		for _, id := range ids {
			if n > 0 {
				lines = append(lines, s.Logs.Tail(id, n)...)
			}
		}
		for _, l := range lastN(lines, n) {
			if err := send(l); err != nil {
				return nil
			}
		}
		return enc.Encode(Response{End: true})
	}
	// Follow: subscribe first, then tail, and skip followed lines the tail
	// already had, so that nothing between the two is lost or repeated.
	merged := make(chan logs.Line, 256)
	var wg sync.WaitGroup
	var lines []logs.Line
	for _, id := range ids {
		ch := s.Logs.Follow(ctx, id)
		var tail []logs.Line
		if n > 0 {
			tail = s.Logs.Tail(id, n)
		} else {
			tail = s.Logs.Tail(id, 1) // only to know where the tail ends
		}
		var after time.Time
		if len(tail) > 0 {
			after = tail[len(tail)-1].Time
		}
		if n > 0 {
			lines = append(lines, tail...)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range ch {
				if !l.Time.After(after) {
					continue
				}
				select {
				case merged <- l:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(merged)
	}()
	for _, l := range lastN(lines, n) {
		if err := send(l); err != nil {
			return nil
		}
	}
	for l := range merged {
		if err := send(l); err != nil {
			return nil
		}
	}
	return nil
}

func wireLine(l logs.Line) *LogLine {
	return &LogLine{Instance: l.ID(), Time: l.Time, Stream: l.Stream.String(), Text: l.Text}
}

// lastN merges lines of several instances by time and keeps the last n.
func lastN(lines []logs.Line, n int) []logs.Line {
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
