// Package migrations holds the data steps of OpenIM's releases, one file per
// step named by the OpenIM version it belongs to (v3_5_0_mysql_to_mongo.go,
// v3_8_0_redis_seq_to_mongo.go, ...), plus the golang-migrate files of the
// declarative steps under mongo/.
//
// The shape is golang-migrate's: a read-only Source of steps (source.go;
// Data() is this package's), and a runner with its own record of what is
// applied (internal/upgrade). A step only knows how to tell from the target's
// own markers whether it is already applied, how to run (resumably and
// idempotently), how to verify, and how to write OpenIM's own marker. Other
// packages add steps of their own through further Sources: the OpenIM config
// steps (Kind Config) and the package-test step.
package migrations

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"
)

// Backend is a set of databases a step needs.
type Backend uint8

const (
	// Mongo is OpenIM's MongoDB (mongodb.yml).
	Mongo Backend = 1 << iota
	// MySQL is OpenIM 3.4's MySQL (the old config's mysql: section).
	MySQL
	// Redis is OpenIM's Redis (redis.yml).
	Redis
)

// Has reports whether every backend of o is in b.
func (b Backend) Has(o Backend) bool { return b&o == o }

func (b Backend) String() string {
	var parts []string
	if b.Has(Mongo) {
		parts = append(parts, "mongo")
	}
	if b.Has(MySQL) {
		parts = append(parts, "mysql")
	}
	if b.Has(Redis) {
		parts = append(parts, "redis")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Kind says what a step changes.
type Kind string

const (
	// KindData steps change OpenIM's databases.
	KindData Kind = "data"
	// KindConfig steps change OpenIM's config dir (Env.OpenIMConfigDir).
	KindConfig Kind = "config"
	// KindTest steps exist only for tests (the package-upgrade step).
	KindTest Kind = "test"
)

// Env is what a step gets from the runner. Every field is set by the runner
// (internal/upgrade) from its validated options: steps apply no defaults of
// their own. Connections are opened lazily on first use, so a step that needs
// no database never touches one.
type Env struct {
	// Mongo returns OpenIM's database (opened once, on first call).
	Mongo func(ctx context.Context) (*mongo.Database, error)
	// MySQL returns the OpenIM 3.4 MySQL database. When no MySQL connection is
	// configured it returns an error that says how to configure one.
	MySQL func(ctx context.Context) (*sql.DB, error)
	// Redis returns OpenIM's Redis.
	Redis func(ctx context.Context) (redis.UniversalClient, error)

	// StateDir is openim-supervisor's state directory.
	StateDir string
	// OpenIMConfigDir is OpenIM's config dir (the yml files; config steps
	// rewrite it, after the runner backed it up).
	OpenIMConfigDir string
	// OldConfig is OpenIM 3.4's config.yaml when one is known ("" otherwise).
	OldConfig string
	// ReportDir receives per-step reports (e.g. rows that could not be kept);
	// it is the backup directory of this run, or <stateDir>/upgrade.
	ReportDir string
	// Zone is the time zone MySQL DATETIME values are read in.
	Zone *time.Location
	// S3Engine fills s3.engine (OpenIM 3.4's object.enable, e.g. "minio").
	S3Engine string
	// ExpireSource lets the 3.8.0 step expire the Redis keys it copied.
	ExpireSource bool
	// ExpireAfter is the TTL given to copied Redis keys with ExpireSource.
	ExpireAfter time.Duration
	// BatchSize is the number of rows per read and write batch.
	BatchSize int
	// Log receives one line per table/batch milestone.
	Log *slog.Logger
	// Progress, when set, is told about progress within a table (done of total).
	Progress func(table string, done, total int64)
	// Pause, when set, is called after each committed batch; tests and the
	// kill test use it to widen the window between writes.
	Pause func()
}

// Validate reports a field the runner left unset.
func (e *Env) Validate() error {
	var missing []string
	if e.Mongo == nil || e.MySQL == nil || e.Redis == nil {
		missing = append(missing, "connections")
	}
	if e.Zone == nil {
		missing = append(missing, "Zone")
	}
	if e.BatchSize <= 0 {
		missing = append(missing, "BatchSize")
	}
	if e.Log == nil {
		missing = append(missing, "Log")
	}
	if e.ReportDir == "" {
		missing = append(missing, "ReportDir")
	}
	if len(missing) > 0 {
		return errors.New("migrations.Env: unset " + strings.Join(missing, ", "))
	}
	return nil
}

func (e *Env) progress(table string, done, total int64) {
	if e.Progress != nil {
		e.Progress(table, done, total)
	}
}

func (e *Env) pause() {
	if e.Pause != nil {
		e.Pause()
	}
}

// TableCount is the result of a step for one table or key set.
type TableCount struct {
	Table     string `json:"table"`               // source table or key prefix
	Target    string `json:"target"`              // target collection
	Source    int64  `json:"source"`              // rows/keys in the source
	Written   int64  `json:"written"`             // writes performed by this run
	InTarget  int64  `json:"in_target"`           // documents in the target after the step
	Conflicts int64  `json:"conflicts,omitempty"` // source rows that could not be kept (reported)
	Skipped   int64  `json:"skipped,omitempty"`   // source values not newer than the target
	Extra     int64  `json:"extra,omitempty"`     // target documents with no source row (kept, reported)
	Checksum  string `json:"checksum,omitempty"`  // verification: checksum over the migrated fields
}

// Counts is the per-table result of a step.
type Counts []TableCount

// Step is one migration of the sequence.
type Step struct {
	// Version is the OpenIM version this step belongs to (e.g. "3.5.0"); a
	// data version older than it means the step is pending.
	Version string
	// Name is short and unique within its version, e.g. "mysql-to-mongo".
	Name string
	// Kind is what the step changes (data, config, test).
	Kind Kind
	// Description is one sentence for the plan.
	Description string
	// Needs lists the backends the step uses; the runner opens nothing else.
	Needs Backend
	// Collections are the Mongo collections the step writes (backed up first).
	Collections []string
	// Writes is false for steps that change no user data (no backup needed).
	Writes bool

	// Applied tells, from the target's own markers, whether the step is
	// already done (by OpenIM's tools or by another host). Optional. The
	// runner asks it in one place, after its own record.
	Applied func(ctx context.Context, env *Env) (bool, error)
	// Estimate returns a cheap description of the work (row or key counts) for
	// the plan. Optional.
	Estimate func(ctx context.Context, env *Env) (string, error)
	// Run applies the step. It must be resumable and idempotent: after a kill
	// at any point, running it again yields the data of an uninterrupted run.
	Run func(ctx context.Context, env *Env) (Counts, error)
	// Verify checks the result before the step is marked done. Optional.
	Verify func(ctx context.Context, env *Env, ran Counts) (Counts, error)
	// Mark writes OpenIM's own marker for the step (dataver, data_version).
	// Optional.
	Mark func(ctx context.Context, env *Env) error
}

// ID names the step in logs, the state record and checkpoints: "3.5.0/mysql-to-mongo".
func (s Step) ID() string { return s.Version + "/" + s.Name }
