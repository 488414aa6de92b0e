package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	mongodriver "github.com/golang-migrate/migrate/v4/database/mongodb"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

// The declarative steps (indexes) are golang-migrate files under mongo/,
// named NNNN_vX_Y_Z_title.up.json; the vX_Y_Z part maps each file to the
// OpenIM version it belongs to, and a registry step of that version runs
// golang-migrate up to NNNN. golang-migrate keeps its own version in this
// collection, separate from OpenIM's markers and from our state record.
//
//go:embed mongo/*.json
var mongoFiles embed.FS

// SchemaCollection is golang-migrate's version collection.
const SchemaCollection = "openim_supervisor_schema_migrations"

func newMigrate(ctx context.Context, env *Env) (*migrate.Migrate, error) {
	db, err := env.Mongo(ctx)
	if err != nil {
		return nil, err
	}
	src, err := iofs.New(mongoFiles, "mongo")
	if err != nil {
		return nil, fmt.Errorf("golang-migrate source: %w", err)
	}
	// Our own host lock and Mongo lease already serialise upgrades, so the
	// driver's advisory lock (a TTL-indexed collection) is off.
	drv, err := mongodriver.WithInstance(db.Client(), &mongodriver.Config{
		DatabaseName:         db.Name(),
		MigrationsCollection: SchemaCollection,
	})
	if err != nil {
		return nil, fmt.Errorf("golang-migrate mongodb driver: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, db.Name(), drv)
	if err != nil {
		return nil, fmt.Errorf("golang-migrate: %w", err)
	}
	return m, nil
}

// The *migrate.Migrate values are not Closed: its mongodb driver's Close
// disconnects the client, which is the runner's shared connection; the iofs
// source holds no resources.

// schemaVersion returns golang-migrate's applied version (0 when none).
func schemaVersion(ctx context.Context, env *Env) (uint, bool, error) {
	m, err := newMigrate(ctx, env)
	if err != nil {
		return 0, false, err
	}
	v, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("golang-migrate version: %w", err)
	}
	return v, dirty, nil
}

// schemaStep is a step that runs golang-migrate up to file number n, whose
// commands create indexes only (no document changes: no backup).
func schemaStep(ver, name, desc string, n uint, collections []string) Step {
	return migrateStep(ver, name, desc, n, collections, false)
}

// migrateStep is a step that runs golang-migrate up to file number n;
// writes says its commands change documents of the collections (which are
// then backed up first). golang-migrate's version collection is the step's
// record of being applied, so another host finds it done.
func migrateStep(ver, name, desc string, n uint, collections []string, writes bool) Step {
	var backed []string
	if writes {
		backed = collections
	}
	return Step{
		Version:     ver,
		Name:        name,
		Kind:        KindData,
		Description: desc,
		Needs:       Mongo,
		Collections: backed,
		Writes:      writes,
		Applied: func(ctx context.Context, env *Env) (bool, error) {
			v, dirty, err := schemaVersion(ctx, env)
			return err == nil && !dirty && v >= n, err
		},
		Estimate: func(context.Context, *Env) (string, error) {
			return fmt.Sprintf("golang-migrate file %04d: %s", n, strings.Join(collections, ", ")), nil
		},
		Run: func(ctx context.Context, env *Env) (Counts, error) {
			m, err := newMigrate(ctx, env)
			if err != nil {
				return nil, err
			}
			v, dirty, err := m.Version()
			if err != nil && !errors.Is(err, migrate.ErrNilVersion) {
				return nil, fmt.Errorf("golang-migrate version: %w", err)
			}
			if dirty {
				// Our index files are idempotent (createIndexes of an existing
				// index is a no-op), so a step killed half-way is re-run from
				// the previous version instead of asking a person to force it.
				prev := int(v) - 1
				if prev < 1 {
					prev = -1
				}
				if err := m.Force(prev); err != nil {
					return nil, fmt.Errorf("golang-migrate force %d after interrupted run: %w", prev, err)
				}
				env.Log.Info("golang-migrate: re-running interrupted file", "version", v)
			}
			if !dirty && err == nil && v >= n {
				return Counts{{Table: fmt.Sprintf("mongo/%04d", n), Target: strings.Join(collections, ",")}}, nil
			}
			if err := m.Migrate(n); err != nil && !errors.Is(err, migrate.ErrNoChange) {
				return nil, fmt.Errorf("golang-migrate up to %d: %w", n, err)
			}
			return Counts{{Table: fmt.Sprintf("mongo/%04d", n), Target: strings.Join(collections, ","), Source: 1, Written: 1, InTarget: 1}}, nil
		},
	}
}
