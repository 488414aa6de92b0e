package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade"
	"github.com/openim-supervisor/openim-supervisor/migrations"
)

type upgradeFlags struct {
	from, to          string
	plan, yes         bool
	skipBackup        bool
	stopOpenIM        bool
	expireSource      bool
	expireAfter       time.Duration
	mysqlDSN          string
	oldConfig         string
	openimConfig      string
	stateDir          string
	zone              string
	batch             int
	lockTimeout       time.Duration
	mongoURI, mongoDB string
	redisAddr         string
}

func newUpgradeCmd(g *globals) *cobra.Command {
	f := &upgradeFlags{}
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Migrate OpenIM's data to the version this package ships",
		Long: `Migrate OpenIM's data from the installed version to the version this binary
ships, running every pending step once, in order (3.5.0: MySQL to MongoDB;
3.8.0: Redis seqs to MongoDB; 3.8.3: log.app_framework; their indexes).
--plan lists the steps (data and config) and changes nothing.

The installed data version comes from our state record
(<stateDir>/upgrade/state.json), else from --from (package scripts pass the
old package version, e.g. 3.7.1-1), else from OpenIM's markers in MongoDB
(dataver/data_version). Connections come from OpenIM's config dir
(mongodb.yml, redis.yml, IMENV_ overrides from the env file and the
environment apply), or --mongo-uri/--redis-addr. For an OpenIM 3.4 source,
MySQL comes from --mysql-dsn, $OPENIM_MYSQL_DSN, OPENIM_MYSQL_DSN in the env
file, or the mysql: section of the OpenIM 3.4 config.yaml given with
--old-config (default <openimConfigDir>/config.yaml when it exists).

--plan needs only the database connections: without a usable supervisor
config (or with the OpenIM binaries not installed yet) give --openim-config
or the connection flags. A real run refuses while a supervisor runs OpenIM,
unless --stop-openim lets it stop OpenIM through the control socket.
Everything a run prints and logs also goes to <stateDir>/upgrade/upgrade.log.

Exit codes: 0 done or nothing to do, 2 not confirmed (no terminal, no --yes),
3 the config is invalid, 5 refused (downgrade, source older than 3.4, unknown
target, OpenIM running), 6 a step failed (data untouched or resumable: fix
and re-run), 7 another upgrade holds the lock.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUpgrade(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "installed OpenIM/package version when no state record tells (e.g. 3.7.1, v3.8.3-patch.16, 3.8.3-1)")
	fl.StringVar(&f.to, "to", "", "target OpenIM version (default: the version this binary ships)")
	fl.BoolVar(&f.plan, "plan", false, "print the steps that would run, with estimates, and change nothing")
	fl.BoolVarP(&f.yes, "yes", "y", false, "run without asking (package scripts pass this)")
	fl.BoolVar(&f.skipBackup, "skip-backup", false, "do not back up before the first writing step (you have a snapshot)")
	fl.BoolVar(&f.stopOpenIM, "stop-openim", false, "stop OpenIM through the running supervisor first (it stays stopped)")
	fl.BoolVar(&f.expireSource, "expire-source", false, "3.8.0: expire the Redis seq keys after copying them (default: keep)")
	fl.DurationVar(&f.expireAfter, "expire-after", upgrade.DefaultExpireAfter, "TTL given to copied Redis keys with --expire-source")
	fl.StringVar(&f.mysqlDSN, "mysql-dsn", "", "OpenIM 3.4 MySQL DSN user:pass@tcp(host:port)/db (prefer $"+upgrade.EnvMySQLDSN+": argv is visible to other users)")
	fl.StringVar(&f.oldConfig, "old-config", "", "OpenIM 3.4 config.yaml whose mysql: and object: sections are used (default <openimConfigDir>/config.yaml if present)")
	fl.StringVar(&f.openimConfig, "openim-config", "", "OpenIM's config dir (default paths.openimConfigDir of the config)")
	fl.StringVar(&f.stateDir, "state-dir", "", "state directory (default paths.stateDir of the config)")
	fl.StringVar(&f.zone, "time-zone", upgrade.DefaultZone.String(), "time zone MySQL DATETIME values were written in (IANA name, e.g. Asia/Shanghai)")
	fl.IntVar(&f.batch, "batch-size", upgrade.DefaultBatchSize, "rows per read/write batch")
	fl.DurationVar(&f.lockTimeout, "lock-timeout", upgrade.DefaultLockTimeout, "how long to wait for another upgrade (host lock, Mongo lease)")
	fl.StringVar(&f.mongoURI, "mongo-uri", "", "MongoDB URI (overrides mongodb.yml)")
	fl.StringVar(&f.mongoDB, "mongo-database", "", "MongoDB database (overrides mongodb.yml)")
	fl.StringVar(&f.redisAddr, "redis-addr", "", "Redis host:port (overrides redis.yml)")
	return cmd
}

func runUpgrade(ctx context.Context, g *globals, f *upgradeFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	log := slog.New(slog.NewTextHandler(g.stderr, nil))
	// The upgrade needs no OpenIM binary, so the config is loaded without
	// file checks; a plan needs no config at all.
	cfg, err := config.LoadWith(g.ConfigPath(), config.Options{SkipFileChecks: true})
	if err != nil {
		if !f.plan {
			return withCode(ExitConfig, err)
		}
		fmt.Fprintf(g.stderr, "note: no usable supervisor config (%v); planning from the flags and the environment\n", err)
		cfg = nil
	}
	zone, err := time.LoadLocation(f.zone)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("--time-zone %q: %w", f.zone, err))
	}
	opts := upgradeOptions(g, cfg, log)
	opts.From, opts.To = f.from, f.to
	opts.PlanOnly, opts.Yes = f.plan, f.yes
	opts.Interactive = isTerminal(g.stdin)
	opts.SkipBackup, opts.StopOpenIM = f.skipBackup, f.stopOpenIM
	opts.ExpireSource, opts.ExpireAfter = f.expireSource, f.expireAfter
	opts.OldConfig, opts.MySQLDSN = f.oldConfig, f.mysqlDSN
	opts.MongoURI, opts.MongoDatabase, opts.RedisAddr = f.mongoURI, f.mongoDB, f.redisAddr
	opts.Zone, opts.BatchSize, opts.LockTimeout = zone, f.batch, f.lockTimeout
	opts.In, opts.Out, opts.Terminal = g.stdin, g.stdout, isTerminal(g.stdout)
	if f.openimConfig != "" {
		opts.OpenIMConfigDir = f.openimConfig
	}
	if f.stateDir != "" {
		opts.StateDir = f.stateDir
	}
	if cfg != nil && !f.plan && cfg.EnvFile != "" {
		// A real run must see the same IMENV_ overrides as OpenIM: an env
		// file that cannot be read is an error, not an empty file.
		if opts.Env, err = config.ReadEnvFile(cfg.EnvFile); err != nil {
			return withCode(ExitConfig, fmt.Errorf("env file %s: %w", cfg.EnvFile, err))
		}
	}
	if cfg != nil && !f.plan {
		opts.Supervisor = controlSupervisor{c: control.NewClient(cfg.Paths.Socket)}
	}
	res, err := upgrade.Run(ctx, opts)
	if err == nil && res != nil && res.StoppedOpenIM {
		fmt.Fprintln(g.stdout, "OpenIM was stopped for the upgrade and stays stopped: start it with "+
			"`openim-supervisor start all` (or restart the service: systemctl restart openim-server).")
	}
	return upgradeExit(err)
}

// upgradeOptions are the options `upgrade` and run's version gate share:
// the supervisor config's paths and env file, the binary's version and the
// step sources of this build.
func upgradeOptions(g *globals, cfg *config.Config, log *slog.Logger) upgrade.Options {
	v := g.info.OpenIMVersion
	if v == "" { // an Info built without it (tests): the compiled-in version
		v = buildinfo.Get().OpenIMVersion
	}
	o := upgrade.Options{
		OpenIMVersion: v,
		// OpenIM's config step first (upgrade_config.go), then the data
		// steps, then the test step of -tags pkgtest builds.
		Sources: append(append([]migrations.Source{migrations.Config(v)}, upgrade.DefaultSources()...), extraSources(v)...),
		Log:     log,
	}
	if cfg != nil {
		o.StateDir = cfg.Paths.StateDir
		o.OpenIMConfigDir = cfg.Paths.OpenIMConfigDir
		o.Env = cfg.Env
	}
	return o
}

// controlSupervisor is the running supervisor as the upgrade sees it.
type controlSupervisor struct{ c *control.Client }

func (s controlSupervisor) Running(ctx context.Context) (int, []string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := s.c.Status(ctx)
	if errors.Is(err, control.ErrNotRunning) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, err
	}
	var running []string
	for _, in := range st.Instances {
		// Anything but stopped may run or be started again (backoff,
		// exited and failed instances are retried).
		if in.State != supervisor.StateStopped {
			running = append(running, in.ID())
		}
	}
	return st.Supervisor.PID, running, true, nil
}

func (s controlSupervisor) StopAll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	_, err := s.c.Do(ctx, control.Request{Op: control.OpStop, Target: "all"})
	return err
}

// gateExit maps run's version-gate errors to exit codes: data that needs an
// upgrade (or is newer than the binary) is a refusal (5, not restarted by
// systemd); databases that did not answer are an error (1, retried).
func gateExit(err error) error {
	var refused *upgrade.RefusedError
	if errors.As(err, &refused) || errors.Is(err, upgrade.ErrPending) {
		return withCode(ExitRefused, fmt.Errorf("version gate: %w", err))
	}
	return withCode(ExitError, fmt.Errorf("version gate: %w", err))
}

// upgradeExit maps upgrade errors to the documented exit codes.
func upgradeExit(err error) error {
	var refused *upgrade.RefusedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused):
		return withCode(ExitRefused, err)
	case errors.Is(err, upgrade.ErrLocked):
		return withCode(ExitLocked, err)
	case errors.Is(err, upgrade.ErrNeedConfirm):
		return withCode(ExitUsage, err)
	default:
		return withCode(ExitMigration, err)
	}
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
