package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/paths"
	"github.com/openim-supervisor/openim-supervisor/internal/service"
)

// serviceCmd holds the flags of `service` and its subcommands.
type serviceCmd struct {
	g          *globals
	executable string
	unitDir    string
	timeout    time.Duration
	skipChecks bool
}

func newServiceCmd(g *globals) *cobra.Command {
	s := &serviceCmd{g: g}
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Register openim-supervisor with the OS service manager (systemd, Windows, launchd)",
		Long: `Register, start, stop and inspect the "` + service.Name + `" OS service, which runs
"openim-supervisor run --config <config>".

Linux: install writes the same unit the packages ship (packaging/systemd) to
/etc/systemd/system/` + service.Name + `.service with this binary and config path,
runs systemctl daemon-reload and enable. Re-running install rewrites the unit
only when it changed.
Windows: install registers a service started automatically whose recovery
actions restart it after a failure. macOS: a launchd daemon (KeepAlive).
On Windows and macOS an existing registration with other settings is refused:
uninstall first.
install does not start the service: use "service start".`,
		Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			return withCode(ExitUsage, fmt.Errorf("service needs one of install, uninstall, start, stop, status (got %q)", args))
		},
	}
	cmd.PersistentFlags().StringVar(&s.executable, "executable", "",
		"openim-supervisor binary the service runs (default: this binary)")
	cmd.PersistentFlags().DurationVar(&s.timeout, "timeout", 2*time.Minute,
		"how long start/stop/uninstall wait for the service manager")
	cmd.PersistentFlags().StringVar(&s.unitDir, "unit-dir", "",
		"Linux: directory for the systemd unit (default /etc/systemd/system; any other dir is only written, systemctl is not called)")

	installCmd := &cobra.Command{
		Use:   "install",
		Short: "Register (and on Linux enable) the service; does not start it",
		Long: `Register (and on Linux enable) the service; it does not start it.
On Linux it first checks what the unit needs: the user and group of User=
and Group= exist; the config, env file, binaries and OpenIM config dir are
visible in the unit's sandbox (ProtectHome=, PrivateTmp=) and readable by
that user; the dirs the supervisor writes are writable under
ProtectSystem=strict. Every problem is listed with its fix and nothing is
installed (exit 11); --skip-checks installs anyway.`,
		Args: cobra.NoArgs, RunE: s.install,
	}
	installCmd.Flags().BoolVar(&s.skipChecks, "skip-checks", false, "install without checking the user, files and sandbox")
	cmd.AddCommand(
		installCmd,
		&cobra.Command{
			Use: "uninstall", Short: "Stop the service and remove its registration",
			Args: cobra.NoArgs, RunE: s.simple("uninstall", service.Manager.Uninstall),
		},
		&cobra.Command{
			Use: "start", Short: "Start the service",
			Args: cobra.NoArgs, RunE: s.simple("start", service.Manager.Start),
		},
		&cobra.Command{
			Use: "stop", Short: "Stop the service and wait until it stopped",
			Args: cobra.NoArgs, RunE: s.simple("stop", service.Manager.Stop),
		},
		&cobra.Command{
			Use:   "status",
			Short: "Show the service's state (exit 0 running, 4 stopped or not installed)",
			Args:  cobra.NoArgs, RunE: s.status,
		},
	)
	return cmd
}

func (s *serviceCmd) manager() (service.Manager, error) {
	m, err := service.New(service.Options{
		Executable: s.executable,
		ConfigPath: s.g.ConfigPath(),
		UnitDir:    s.unitDir,
		LogDir:     paths.OS().LogDir,
	})
	if errors.Is(err, service.ErrUnsupported) {
		return nil, withCode(ExitUnsupported, err)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s *serviceCmd) install(cmd *cobra.Command, _ []string) error {
	m, err := s.manager()
	if err != nil {
		return err
	}
	if !s.skipChecks {
		if probs := s.preflight(); len(probs) > 0 {
			var b strings.Builder
			fmt.Fprintf(&b, "service install: the service would not start; %d thing(s) missing:", len(probs))
			for _, p := range probs {
				b.WriteString("\n  - " + p.String())
			}
			b.WriteString("\n(nothing was installed; --skip-checks installs anyway)")
			return withCode(ExitCheckFailed, errors.New(b.String()))
		}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), s.timeout)
	defer cancel()
	res, err := m.Install(ctx)
	if err != nil {
		return fmt.Errorf("service install: %w", err)
	}
	if res.Changed {
		fmt.Fprintf(s.g.stdout, "installed %s (%s)\n", service.Name, res.Path)
	} else {
		fmt.Fprintf(s.g.stdout, "%s already installed, unchanged (%s)\n", service.Name, res.Path)
	}
	if res.Note != "" {
		fmt.Fprintln(s.g.stdout, "note:", res.Note)
	}
	return nil
}

// preflight checks what the unit needs (its user, its sandbox's view of the
// config, env file, binaries and the dirs the supervisor writes).
func (s *serviceCmd) preflight() []service.Problem {
	exe := s.executable
	if exe == "" {
		exe, _ = os.Executable()
	}
	cfgPath, _ := filepath.Abs(s.g.ConfigPath())
	pp := service.PreflightPaths{Executable: exe, Config: cfgPath}
	if cfg, err := config.LoadWith(cfgPath, config.Options{SkipFileChecks: true}); err == nil {
		pp.EnvFile = cfg.EnvFile
		pp.ReadPaths = []string{cfg.Paths.BinDir, cfg.Paths.OpenIMConfigDir}
		pp.WritePaths = []string{cfg.Paths.LogDir, cfg.Paths.StateDir, cfg.Paths.RuntimeDir}
	} else if _, serr := os.Stat(cfgPath); serr != nil {
		return []service.Problem{{What: "no config at " + cfgPath, Fix: "write one with `openim-supervisor init --config " + cfgPath + "`"}}
	} else {
		return []service.Problem{{What: "the config does not load: " + firstLines(err, 1), Fix: "run `openim-supervisor config check --config " + cfgPath + "`"}}
	}
	return service.Preflight(pp)
}

func (s *serviceCmd) simple(verb string, op func(service.Manager, context.Context) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		m, err := s.manager()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), s.timeout)
		defer cancel()
		if err := op(m, ctx); err != nil {
			return fmt.Errorf("service %s: %w", verb, err)
		}
		fmt.Fprintf(s.g.stdout, "%s: %s done\n", service.Name, verb)
		return nil
	}
}

func (s *serviceCmd) status(cmd *cobra.Command, _ []string) error {
	m, err := s.manager()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), s.timeout)
	defer cancel()
	st, err := m.Status(ctx)
	if err != nil {
		return fmt.Errorf("service status: %w", err)
	}
	fmt.Fprintf(s.g.stdout, "%s: %s (%s)\n", service.Name, st.State, st.Detail)
	if st.State != service.StateRunning {
		return withCode(ExitNotRunning, fmt.Errorf("%s is %s", service.Name, st.State))
	}
	return nil
}
