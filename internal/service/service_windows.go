package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
	"unsafe"

	ks "github.com/kardianos/service"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

type windowsManager struct {
	opts Options
}

// New returns the Windows service manager integration.
func New(opts Options) (Manager, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return &windowsManager{opts: o}, nil
}

// commandLine is how the SCM stores the service's command (as mgr builds it).
func commandLine(exe string, args []string) string {
	s := syscall.EscapeArg(exe)
	for _, a := range args {
		s += " " + syscall.EscapeArg(a)
	}
	return s
}

func (m *windowsManager) Install(ctx context.Context) (InstallResult, error) {
	res := InstallResult{Path: Name}
	scm, err := mgr.Connect()
	if err != nil {
		return res, fmt.Errorf("connect to the service manager: %w", err)
	}
	defer scm.Disconnect()
	kc := windowsConfig(m.opts)
	want := commandLine(kc.Executable, kc.Arguments)
	if s, err := scm.OpenService(Name); err == nil {
		defer s.Close()
		have, err := binaryPath(s)
		if err != nil {
			return res, fmt.Errorf("read service %s: %w", Name, err)
		}
		if have != want {
			return res, fmt.Errorf("%w: %s runs %q, not %q; run `openim-supervisor service uninstall` first",
				ErrAlreadyInstalled, Name, have, want)
		}
		res.Note = setRecovery(s)
		return res, nil
	}
	ksvc, err := ks.New(program{}, kc.kardianos())
	if err != nil {
		return res, fmt.Errorf("service %s: %w", Name, err)
	}
	if err := ksvc.Install(); err != nil {
		return res, fmt.Errorf("install service %s: %w", Name, err)
	}
	res.Changed = true
	s, err := scm.OpenService(Name)
	if err != nil {
		return res, fmt.Errorf("open service %s: %w", Name, err)
	}
	defer s.Close()
	res.Note = setRecovery(s)
	return res, nil
}

// binaryPath is the service's command line. (mgr.Service.Config also asks
// for optional config levels that wine does not implement.)
func binaryPath(s *mgr.Service) (string, error) {
	n := uint32(1024)
	for {
		b := make([]byte, n)
		p := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
		err := windows.QueryServiceConfig(s.Handle, p, n, &n)
		if err == nil {
			return windows.UTF16PtrToString(p.BinaryPathName), nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || n <= uint32(len(b)) {
			return "", err
		}
	}
}

// setRecovery makes the SCM also apply the recovery actions (set by
// kardianos from OnFailure) when the service stops itself with an error,
// not only when the process crashes. Service managers without that setting
// (wine) keep the crash-only behaviour; the returned note says so.
func setRecovery(s *mgr.Service) string {
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return "recovery actions apply to crashes only: " + err.Error()
	}
	return ""
}

// recoveryDetail describes the recovery actions the SCM holds.
func recoveryDetail(s *mgr.Service) string {
	acts, err := s.RecoveryActions()
	if err != nil {
		return "recovery: unknown (" + err.Error() + ")"
	}
	if len(acts) == 0 {
		return "recovery: none"
	}
	var parts []string
	for _, a := range acts {
		name := fmt.Sprintf("action-%d", a.Type)
		switch a.Type {
		case mgr.ServiceRestart:
			name = "restart"
		case mgr.NoAction:
			name = "none"
		case mgr.ComputerReboot:
			name = "reboot"
		case mgr.RunCommand:
			name = "command"
		}
		parts = append(parts, name+" after "+a.Delay.String())
	}
	return "recovery: " + strings.Join(parts, ", ")
}

func (m *windowsManager) Uninstall(ctx context.Context) error {
	scm, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager: %w", err)
	}
	defer scm.Disconnect()
	s, err := scm.OpenService(Name)
	if err != nil {
		return fmt.Errorf("%s is not installed: %w", Name, err)
	}
	defer s.Close()
	if st, err := s.Query(); err == nil && st.State != svc.Stopped {
		if err := stopAndWait(ctx, s); err != nil {
			return err
		}
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("delete service %s: %w", Name, err)
	}
	// The event log source is kardianos' addition; a missing one is fine.
	_ = eventlog.Remove(Name)
	return nil
}

func (m *windowsManager) open() (*mgr.Mgr, *mgr.Service, error) {
	scm, err := mgr.Connect()
	if err != nil {
		return nil, nil, fmt.Errorf("connect to the service manager: %w", err)
	}
	s, err := scm.OpenService(Name)
	if err != nil {
		scm.Disconnect()
		return nil, nil, fmt.Errorf("open service %s: %w", Name, err)
	}
	return scm, s, nil
}

func (m *windowsManager) Start(ctx context.Context) error {
	scm, s, err := m.open()
	if err != nil {
		return err
	}
	defer scm.Disconnect()
	defer s.Close()
	if err := s.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return fmt.Errorf("start service %s: %w", Name, err)
	}
	st, err := waitWhile(ctx, s, svc.StartPending)
	if err != nil {
		return err
	}
	if st.State != svc.Running {
		return fmt.Errorf("service %s did not start (state %s, exit code %d/%d)",
			Name, stateName(st.State), st.Win32ExitCode, st.ServiceSpecificExitCode)
	}
	return nil
}

func (m *windowsManager) Stop(ctx context.Context) error {
	scm, s, err := m.open()
	if err != nil {
		return err
	}
	defer scm.Disconnect()
	defer s.Close()
	return stopAndWait(ctx, s)
}

// stopAndWait sends Stop and waits until the SCM reports Stopped or ctx ends
// (kardianos' stop wait can loop forever, issue #337).
func stopAndWait(ctx context.Context, s *mgr.Service) error {
	if _, err := s.Control(svc.Stop); err != nil &&
		!errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return fmt.Errorf("stop service %s: %w", Name, err)
	}
	st, err := waitWhile(ctx, s, svc.StopPending, svc.Running)
	if err != nil {
		return err
	}
	if st.State != svc.Stopped {
		return fmt.Errorf("service %s did not stop (state %s)", Name, stateName(st.State))
	}
	return nil
}

// waitWhile queries the SCM until the state is none of states or ctx ends.
// The SCM has no blocking wait usable here (NotifyServiceStatusChange needs an
// alertable thread), so it asks at a short interval, bounded by ctx.
func waitWhile(ctx context.Context, s *mgr.Service, states ...svc.State) (svc.Status, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := s.Query()
		if err != nil {
			return st, fmt.Errorf("query service %s: %w", Name, err)
		}
		pending := false
		for _, p := range states {
			pending = pending || st.State == p
		}
		if !pending {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("service %s still %s: %w", Name, stateName(st.State), ctx.Err())
		case <-t.C:
		}
	}
}

func (m *windowsManager) Status(ctx context.Context) (Status, error) {
	scm, err := mgr.Connect()
	if err != nil {
		return Status{}, fmt.Errorf("connect to the service manager: %w", err)
	}
	defer scm.Disconnect()
	s, err := scm.OpenService(Name)
	if err != nil {
		if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
			return Status{State: StateNotInstalled, Detail: "no service " + Name}, nil
		}
		return Status{}, fmt.Errorf("open service %s: %w", Name, err)
	}
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		return Status{}, fmt.Errorf("query service %s: %w", Name, err)
	}
	out := Status{Detail: fmt.Sprintf("%s, pid %d, %s", stateName(st.State), st.ProcessId, recoveryDetail(s))}
	switch st.State {
	case svc.Running:
		out.State = StateRunning
	case svc.StartPending:
		out.State = StateStarting
	case svc.StopPending:
		out.State = StateStopping
	case svc.Stopped:
		out.State = StateStopped
	default:
		out.State = StateUnknown
	}
	return out, nil
}

func stateName(s svc.State) string {
	switch s {
	case svc.Stopped:
		return "stopped"
	case svc.StartPending:
		return "start-pending"
	case svc.StopPending:
		return "stop-pending"
	case svc.Running:
		return "running"
	case svc.ContinuePending:
		return "continue-pending"
	case svc.PausePending:
		return "pause-pending"
	case svc.Paused:
		return "paused"
	}
	return fmt.Sprintf("state-%d", s)
}

// stopBound is how long the handler waits for run to return after Stop or
// Shutdown before it reports Stopped anyway; the SCM is kept informed with
// StopPending check points meanwhile.
const stopBound = 5 * time.Minute

// RunWindowsService runs run under the Windows service dispatcher as the
// service called name: it reports StartPending then Running, answers
// Interrogate, and on Stop or Shutdown reports StopPending, cancels run's
// context and waits (bounded) for run to return. It returns when the service
// stopped; a run error becomes a service-specific exit code, which the SCM
// treats as a failure (recovery actions apply).
//
// `openim-supervisor run --service` calls it directly instead of relying on
// svc.IsWindowsService, which reports false under wine.
func RunWindowsService(ctx context.Context, name string, run func(ctx context.Context) error) error {
	h := &handler{ctx: ctx, run: run}
	if err := svc.Run(name, h); err != nil {
		return fmt.Errorf("windows service %s: %w", name, err)
	}
	return h.err
}

type handler struct {
	ctx context.Context
	run func(ctx context.Context) error
	err error // set by Execute before it returns; read after svc.Run returns
}

func (h *handler) Execute(_ []string, req <-chan svc.ChangeRequest, changes chan<- svc.Status) (bool, uint32) {
	const accepts = svc.AcceptStop | svc.AcceptShutdown
	changes <- svc.Status{State: svc.StartPending, WaitHint: 10000}
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()
	changes <- svc.Status{State: svc.Running, Accepts: accepts}

	stopping := false
	var checkpoint uint32
	var hint <-chan time.Time
	var bound <-chan time.Time
	for {
		select {
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				changes <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				if !stopping {
					stopping = true
					checkpoint++
					changes <- svc.Status{State: svc.StopPending, CheckPoint: checkpoint, WaitHint: 10000}
					cancel()
					tk := time.NewTicker(5 * time.Second)
					defer tk.Stop()
					hint = tk.C
					tm := time.NewTimer(stopBound)
					defer tm.Stop()
					bound = tm.C
				}
			}
		case <-hint:
			checkpoint++
			changes <- svc.Status{State: svc.StopPending, CheckPoint: checkpoint, WaitHint: 10000}
		case <-bound:
			h.err = fmt.Errorf("run did not return within %s of the stop request", stopBound)
			changes <- svc.Status{State: svc.Stopped}
			return true, 2
		case err := <-done:
			if !stopping {
				// Stopped on its own: StopPending, then Stopped below.
				changes <- svc.Status{State: svc.StopPending, WaitHint: 1000}
			}
			if err != nil && !(stopping && errors.Is(err, context.Canceled)) {
				h.err = err
				changes <- svc.Status{State: svc.Stopped}
				return true, 1
			}
			changes <- svc.Status{State: svc.Stopped}
			return false, 0
		}
	}
}
