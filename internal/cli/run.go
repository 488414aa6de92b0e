package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
	"github.com/openim-supervisor/openim-supervisor/internal/metrics"
	"github.com/openim-supervisor/openim-supervisor/internal/notify"
	"github.com/openim-supervisor/openim-supervisor/internal/service"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade"
)

func newRunCmd(g *globals) *cobra.Command {
	var asService, debug bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the supervisor in the foreground (what the OS service manager runs)",
		Long: `Run every configured OpenIM process in the foreground: start them in order,
restart them per policy, serve the control socket (status, start, stop,
restart, logs, reload) and, when configured, the metrics endpoint.

Signals: SIGTERM or SIGINT stop every process gracefully (in reverse order)
and exit 0; a second SIGINT exits at once (children are killed with the
supervisor). SIGHUP re-reads the config like ` + "`openim-supervisor reload`" + `; an
invalid config is logged and ignored. Under systemd (Type=notify) it sends
READY=1, STATUS=, WATCHDOG=1 and STOPPING=1, and child output goes to the
journal; otherwise to files in paths.logDir.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			hopts := &slog.HandlerOptions{Level: level}
			if underSystemd() { // the journal stamps every line itself
				hopts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
					if len(groups) == 0 && a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				}
			}
			r := &runner{g: g, cfgPath: g.ConfigPath(), log: slog.New(slog.NewTextHandler(g.stderr, hopts))}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if asService {
				return service.RunWindowsService(ctx, service.Name, r.run)
			}
			return r.run(ctx)
		},
	}
	cmd.Flags().BoolVar(&asService, "service", false, "run under the Windows service manager (set by `service install`)")
	cmd.Flags().BoolVar(&debug, "debug", false, "log debug messages")
	return cmd
}

// runner is one `run`: the supervisor's lifetime.
type runner struct {
	g       *globals
	cfgPath string
	log     *slog.Logger

	reloadMu sync.Mutex
	cfg      *config.Config // the config in effect; guarded by reloadMu
}

// run supervises until ctx ends or a stop signal arrives; nil after a clean stop.
func (r *runner) run(ctx context.Context) error {
	abs, err := filepath.Abs(r.cfgPath)
	if err == nil {
		r.cfgPath = abs
	}
	cfg, err := config.Load(r.cfgPath)
	if err != nil {
		return withCode(ExitConfig, err)
	}
	r.cfg = cfg
	// OpenIM's config dir first: local and quick (its version stamp, keys,
	// ports); the data gate below may wait for the databases.
	openim, err := r.checkOpenIMConfig(cfg)
	if err != nil {
		return err
	}
	// Version gate: pacman and apk install a package even when its pre-upgrade
	// check fails, so the data version is checked again before anything starts.
	// Without a state record it may wait for the databases: systemd is told,
	// so its start timeout does not end the wait first.
	notifier := notify.New(r.log)
	gate := upgradeOptions(r.g, cfg, r.log)
	gate.OnGateWait = func(d time.Duration) {
		notifier.Extend(d, "version gate: waiting for the databases to read the data version")
	}
	if err := upgrade.Check(ctx, gate); err != nil {
		return gateExit(err)
	}
	for _, d := range []string{cfg.Paths.RuntimeDir, cfg.Paths.LogDir, cfg.Paths.StateDir, filepath.Dir(cfg.Paths.Socket)} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}

	// Signals first, so that a TERM during start-up is a clean stop.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, notifySignals()...)
	defer signal.Stop(sigs)
	signal.Ignore(ignoredSignals()...)

	sink, closeSink, err := r.sink(cfg)
	if err != nil {
		return err
	}
	defer closeSink()

	mgr, err := supervisor.New(cfg, supervisor.Options{Logger: r.log, Output: sink, OnChange: notifier.Changed,
		Components: openim.components, BeforeStart: openim.beforeStart})
	if err != nil {
		return withCode(ExitConfig, fmt.Errorf("supervisor: %w", err))
	}

	// Servers run until the Manager has stopped everything, so that status
	// keeps answering during a graceful stop.
	srvCtx, stopServers := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() {
		stopServers()
		wg.Wait()
	}()

	ln, err := control.Listen(srvCtx, cfg.Paths.Socket, cfg.Control.Group)
	if err != nil {
		return err
	}
	started := time.Now()
	srv := &control.Server{
		Backend: mgr,
		Logs:    mgr.Logs(),
		ReloadWith: func(ctx context.Context, o supervisor.ReloadOptions) (supervisor.ReloadResult, error) {
			return r.reload(ctx, mgr, o)
		},
		Info: func() control.SupervisorInfo {
			info := control.SupervisorInfo{PID: os.Getpid(), Version: r.g.info.Version, Config: r.cfgPath, StartedAt: started}
			select {
			case <-mgr.Ready():
				info.Ready = true
			default:
			}
			return info
		},
		Logger: r.log,
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(srvCtx, ln); err != nil {
			r.log.Error("control server stopped", "err", err)
		}
	}()
	r.log.Info("control socket ready", "socket", cfg.Paths.Socket)

	if cfg.Metrics.Listen != "" {
		ms, err := metrics.Listen(srvCtx, cfg.Metrics.Listen, mgr.Status, r.g.info, r.log)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ms.Serve(srvCtx); err != nil {
				r.log.Error("metrics endpoint stopped", "err", err)
			}
		}()
		r.log.Info("metrics endpoint ready", "url", "http://"+ms.Addr().String()+"/metrics")
	}

	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = notifier.Run(srvCtx, mgr)
	}()

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	done := make(chan error, 1)
	go func() { done <- mgr.Run(runCtx) }()
	r.log.Info("supervisor started", "config", r.cfgPath, "pid", os.Getpid(), "instances", len(cfg.Instances()))

	stopping := false
	beginStop := func(why string) {
		if stopping {
			return
		}
		stopping = true
		r.log.Info("stopping every process", "reason", why)
		notifier.Stopping()
		stopRun()
	}
	ctxDone := ctx.Done()
	for {
		select {
		case err := <-done:
			stopServers()
			if err != nil && !errors.Is(err, context.Canceled) {
				r.log.Error("supervisor failed", "err", err)
				return fmt.Errorf("supervise: %w", err)
			}
			r.log.Info("all processes stopped; exiting")
			return nil
		case <-ctxDone:
			ctxDone = nil
			beginStop("service stop requested")
		case sig := <-sigs:
			switch {
			case isReloadSignal(sig):
				go func() {
					res, err := r.reload(srvCtx, mgr, supervisor.ReloadOptions{})
					if err != nil {
						r.log.Error("reload on "+sig.String()+" rejected; nothing changed", "err", err)
						return
					}
					r.log.Info("reloaded on "+sig.String(), "added", res.Added, "removed", res.Removed,
						"changed", res.Changed, "unchanged", res.Unchanged)
				}()
			case stopping && isInterrupt(sig):
				r.log.Warn("second interrupt: exiting now; children die with the supervisor")
				return withCode(ExitError, errors.New("forced stop: processes were not stopped gracefully"))
			default:
				beginStop("signal " + sig.String())
			}
		}
	}
}

// reload re-reads the config file the supervisor was started with and
// applies it. An invalid file changes nothing.
func (r *runner) reload(ctx context.Context, mgr *supervisor.Manager, o supervisor.ReloadOptions) (supervisor.ReloadResult, error) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	cfg, err := config.Load(r.cfgPath)
	if err != nil {
		return supervisor.ReloadResult{}, &invalidConfigError{err: err}
	}
	old := r.cfg
	if cfg.Paths.Socket != old.Paths.Socket || cfg.Control.Group != old.Control.Group ||
		cfg.Metrics != old.Metrics || cfg.Log != old.Log || cfg.Paths.LogDir != old.Paths.LogDir {
		r.log.Warn("reload applies only the process set; restart the supervisor to apply changes to paths, log, metrics or control")
	}
	res, err := mgr.ReloadWith(ctx, cfg, o)
	if err != nil {
		return res, fmt.Errorf("reload %s: %w", r.cfgPath, err)
	}
	r.cfg = cfg
	return res, nil
}

// invalidConfigError is a reload rejected because the new file is invalid.
type invalidConfigError struct{ err error }

func (e *invalidConfigError) Error() string {
	return "the new config was rejected, nothing changed:\n" + e.err.Error()
}
func (e *invalidConfigError) Unwrap() []error { return []error{control.ErrInvalidConfig, e.err} }

// sink chooses where child output goes: the journal under systemd (auto)
// when its socket exists, else rotated files in the log dir.
func (r *runner) sink(cfg *config.Config) (logs.Sink, func(), error) {
	target := cfg.Log.Target
	if target == "" || target == config.LogAuto {
		target = config.LogFile
		if underSystemd() && logs.JournalEnabled() {
			target = config.LogJournal
		}
	}
	onErr := func(err error) { r.log.Warn("child output", "err", err) }
	switch target {
	case config.LogJournal:
		if !logs.JournalEnabled() {
			return nil, nil, fmt.Errorf("log.target is journal but the journal socket is not available")
		}
		r.log.Info("child output goes to the journal")
		return logs.NewJournalSink(onErr), func() {}, nil
	default:
		fs, err := logs.NewFileSink(cfg.Paths.LogDir, int64(cfg.Log.MaxSize), cfg.Log.MaxFiles, onErr)
		if err != nil {
			return nil, nil, fmt.Errorf("log files in %s: %w", cfg.Paths.LogDir, err)
		}
		r.log.Info("child output goes to files", "dir", cfg.Paths.LogDir)
		return fs, func() { _ = fs.Close() }, nil
	}
}

// underSystemd reports whether systemd started us with a journal stream.
func underSystemd() bool {
	return os.Getenv("JOURNAL_STREAM") != "" || os.Getenv("INVOCATION_ID") != ""
}
