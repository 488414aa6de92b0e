package upgrade

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// Defaults: the one place they live. The CLI's flags show these values; an
// unset Options field gets them in withDefaults.
const (
	DefaultBatchSize   = 1000
	DefaultLockTimeout = 10 * time.Minute
	DefaultLeaseTTL    = 30 * time.Second
	DefaultExpireAfter = 24 * time.Hour
	DefaultS3Engine    = "minio"
	// DefaultGateWait bounds how long run's version gate waits for MongoDB
	// and Redis when it must look at the data (no state record). run tells
	// systemd (EXTEND_TIMEOUT_USEC, this plus notify.ExtendMargin) before the
	// gate, so the unit's TimeoutStartSec (90 s) does not end the wait first.
	DefaultGateWait = 90 * time.Second
)

// DefaultZone is the time zone MySQL DATETIMEs are read in unless told.
var DefaultZone = time.UTC

// Options configure an Upgrader. They are given once, to New; nothing reads
// flags, files or the environment behind the Upgrader's back except through
// what is named here.
type Options struct {
	// OpenIMVersion is the version this binary ships (buildinfo). Required.
	OpenIMVersion string
	// From is the installed version the package manager passes (optional).
	From string
	// To is the target (default OpenIMVersion).
	To string

	// PlanOnly prints the plan and changes nothing (no lock, no log file).
	PlanOnly bool
	// Yes runs without asking.
	Yes bool
	// Interactive: In is a terminal, so we may ask.
	Interactive bool
	// SkipBackup skips the backup (the operator has a snapshot).
	SkipBackup bool
	// ExpireSource expires copied Redis keys (3.8.0) after ExpireAfter.
	ExpireSource bool
	ExpireAfter  time.Duration

	// StateDir holds state.json, the lock, upgrade.log and backups. Required
	// unless PlanOnly (a plan without it has no state record to read).
	StateDir string
	// OpenIMConfigDir is OpenIM's config dir (mongodb.yml, redis.yml, ...).
	OpenIMConfigDir string
	// OldConfig is OpenIM 3.4's config.yaml (its mysql: and object:
	// sections); default <OpenIMConfigDir>/config.yaml when that file exists.
	OldConfig string

	// Connections. MySQL is chosen in one place (conns.mysqlSource): MySQLDSN,
	// else $OPENIM_MYSQL_DSN (LookupEnv), else OPENIM_MYSQL_DSN in Env, else
	// OldConfig's mysql: section.
	MySQLDSN string
	// MongoURI/MongoDatabase/RedisAddr override mongodb.yml/redis.yml.
	MongoURI      string
	MongoDatabase string
	RedisAddr     string
	// Env holds the supervisor's env file (IMENV_* overrides, OPENIM_MYSQL_DSN).
	Env map[string]string
	// LookupEnv reads the process environment; default os.LookupEnv.
	LookupEnv func(string) (string, bool)

	Zone      *time.Location
	BatchSize int
	S3Engine  string // default: OldConfig's object.enable, else minio

	LockTimeout time.Duration
	LeaseTTL    time.Duration
	// GateWait bounds Check's wait for the databases.
	GateWait time.Duration
	// OnGateWait, if set, is called once with GateWait before Check looks
	// at the databases (it does not when a state record answers): `run`
	// extends systemd's start timeout by it.
	OnGateWait func(time.Duration)

	// Sources are where steps come from, joined in this order (config
	// sources before data sources); nil means DefaultSources().
	Sources []migrations.Source

	// Supervisor is the running supervisor, if any (the CLI passes a
	// control-socket client). With StopOpenIM, Run stops OpenIM through it;
	// without, Run refuses while OpenIM runs.
	Supervisor Supervisor
	StopOpenIM bool

	In       io.Reader // answers to the confirmation prompt
	Out      io.Writer // plan, progress, summary
	Log      *slog.Logger
	Terminal bool // Out is a terminal: draw progress bars
	// LogFile receives the whole run (plan, milestones, summary, the error);
	// default <StateDir>/upgrade/upgrade.log, "-" for none.
	LogFile string
	// Pause is handed to steps (kill tests widen the window between batches).
	Pause func()
}

// DefaultSources are the steps of a release build: OpenIM's data steps.
// (The OpenIM config steps join here, before the data steps.)
func DefaultSources() []migrations.Source {
	return []migrations.Source{migrations.Data()}
}

// withDefaults returns o with every unset field at its default.
func (o Options) withDefaults() Options {
	if o.To == "" {
		o.To = o.OpenIMVersion
	}
	if o.Zone == nil {
		o.Zone = DefaultZone
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.ExpireAfter <= 0 {
		o.ExpireAfter = DefaultExpireAfter
	}
	if o.GateWait <= 0 {
		o.GateWait = DefaultGateWait
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Sources == nil {
		o.Sources = DefaultSources()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.OldConfig == "" && o.OpenIMConfigDir != "" {
		p := filepath.Join(o.OpenIMConfigDir, "config.yaml")
		if _, err := os.Stat(p); err == nil {
			o.OldConfig = p
		}
	}
	if o.LogFile == "" && o.StateDir != "" {
		o.LogFile = LogPath(o.StateDir)
	}
	return o
}

func (o Options) validate() error {
	if o.OpenIMVersion == "" {
		return errors.New("upgrade: OpenIMVersion is required")
	}
	if o.StateDir == "" && !o.PlanOnly {
		return errors.New("upgrade: a state directory is required (paths.stateDir in the config, or --state-dir)")
	}
	return nil
}
