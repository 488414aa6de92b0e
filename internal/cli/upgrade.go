package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade"
)

type upgradeFlags struct {
	from, to          string
	plan, yes         bool
	skipBackup        bool
	expireSource      bool
	expireAfter       time.Duration
	mysqlDSN          string
	oldConfig         string
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
ships, running every pending step of the migrations registry once, in order
(3.5.0: MySQL to MongoDB; 3.8.0: Redis seqs to MongoDB; their indexes).

The installed data version comes from our state record
(<stateDir>/upgrade/state.json), else from OpenIM's markers in MongoDB
(dataver/data_version), else from --from (package scripts pass the old
package version, e.g. 3.7.1-1). Connections come from OpenIM's config dir
(mongodb.yml, redis.yml, IMENV_ overrides apply). For an OpenIM 3.4 source,
MySQL comes from --mysql-dsn, $OPENIM_MYSQL_DSN, or the mysql: section of the
OpenIM 3.4 config.yaml given with --old-config (default
<openimConfigDir>/config.yaml when it exists).

Exit codes: 0 done or nothing to do, 2 not confirmed (no terminal, no --yes),
5 refused (downgrade, source older than 3.4, unknown target), 6 a step failed
(data untouched or resumable: fix and re-run), 7 another upgrade holds the lock.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUpgrade(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "installed OpenIM/package version when no state record or marker tells (e.g. 3.7.1, v3.8.3-patch.16, 3.8.3-1)")
	fl.StringVar(&f.to, "to", "", "target OpenIM version (default: the version this binary ships)")
	fl.BoolVar(&f.plan, "plan", false, "print the steps that would run, with estimates, and change nothing")
	fl.BoolVarP(&f.yes, "yes", "y", false, "run without asking (package scripts pass this)")
	fl.BoolVar(&f.skipBackup, "skip-backup", false, "do not back up before the first writing step (you have a snapshot)")
	fl.BoolVar(&f.expireSource, "expire-source", false, "3.8.0: expire the Redis seq keys after copying them (default: keep)")
	fl.DurationVar(&f.expireAfter, "expire-after", 24*time.Hour, "TTL given to copied Redis keys with --expire-source")
	fl.StringVar(&f.mysqlDSN, "mysql-dsn", "", "OpenIM 3.4 MySQL DSN user:pass@tcp(host:port)/db (prefer $"+upgrade.EnvMySQLDSN+": argv is visible to other users)")
	fl.StringVar(&f.oldConfig, "old-config", "", "OpenIM 3.4 config.yaml whose mysql: and object: sections are used (default <openimConfigDir>/config.yaml if present)")
	fl.StringVar(&f.zone, "time-zone", "UTC", "time zone MySQL DATETIME values were written in (IANA name, e.g. Asia/Shanghai)")
	fl.IntVar(&f.batch, "batch-size", 1000, "rows per read/write batch")
	fl.DurationVar(&f.lockTimeout, "lock-timeout", 10*time.Minute, "how long to wait for another upgrade (host lock, Mongo lease)")
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

	cfg, err := config.Load(g.ConfigPath())
	if err != nil {
		return withCode(ExitConfig, err)
	}
	zone, err := time.LoadLocation(f.zone)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("--time-zone %q: %w", f.zone, err))
	}
	dsn := f.mysqlDSN
	if dsn == "" {
		dsn = os.Getenv(upgrade.EnvMySQLDSN)
	}
	if dsn == "" {
		dsn = cfg.Env[upgrade.EnvMySQLDSN]
	}
	stateDir := cfg.Paths.StateDir
	if err := os.MkdirAll(filepath.Join(stateDir, "upgrade"), 0o750); err != nil {
		return withCode(ExitError, fmt.Errorf("create state dir: %w", err))
	}

	// Log: one line per milestone to stderr and to <stateDir>/upgrade/upgrade.log.
	var logw io.Writer = g.stderr
	if !f.plan {
		lf, err := os.OpenFile(upgrade.LogPath(stateDir), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return withCode(ExitError, fmt.Errorf("open upgrade log: %w", err))
		}
		defer lf.Close()
		logw = io.MultiWriter(g.stderr, lf)
	}
	log := slog.New(slog.NewTextHandler(logw, nil))

	opts := upgrade.Options{
		OpenIMVersion: g.info.OpenIMVersion,
		From:          f.from, To: f.to,
		PlanOnly: f.plan, Yes: f.yes,
		Interactive:  isTerminal(g.stdin),
		SkipBackup:   f.skipBackup,
		ExpireSource: f.expireSource, ExpireAfter: f.expireAfter,
		StateDir:        stateDir,
		OpenIMConfigDir: cfg.Paths.OpenIMConfigDir,
		OldConfig:       f.oldConfig,
		MySQLDSN:        dsn,
		MongoURI:        f.mongoURI, MongoDatabase: f.mongoDB, RedisAddr: f.redisAddr,
		Env:         cfg.Env,
		Zone:        zone,
		BatchSize:   f.batch,
		LockTimeout: f.lockTimeout,
		In:          g.stdin, Out: g.stdout, Log: log,
		Terminal: isTerminal(g.stdout),
	}
	_, err = upgrade.Run(ctx, opts)
	return upgradeExit(err)
}

// upgradeExit maps upgrade errors to the documented exit codes.
func upgradeExit(err error) error {
	var refused *upgrade.RefusedError
	var step *upgrade.StepError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused):
		return withCode(ExitRefused, err)
	case errors.Is(err, upgrade.ErrLocked):
		return withCode(ExitLocked, err)
	case errors.Is(err, upgrade.ErrNeedConfirm):
		return withCode(ExitUsage, err)
	case errors.As(err, &step):
		return withCode(ExitMigration, err)
	default:
		return withCode(ExitMigration, err)
	}
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
