package openimmodels

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/openim-supervisor/openim-supervisor/internal/upgrade"
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade/upgradetest"
	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// runIndexSteps runs every index step of the data source on db.
func runIndexSteps(t *testing.T, db *mongo.Database) {
	t.Helper()
	steps, err := migrations.Join(migrations.Data())
	if err != nil {
		t.Fatal(err)
	}
	env := &migrations.Env{Mongo: func(context.Context) (*mongo.Database, error) { return db, nil }, Log: testLog(t)}
	for _, s := range steps {
		if s.Name != "indexes" {
			continue
		}
		if _, err := s.Run(context.Background(), env); err != nil {
			t.Fatalf("%s: %v", s.ID(), err)
		}
	}
}

// migrate loads OpenIM 3.4's tables and the awkward dataset
// (internal/upgrade/upgradetest) into a fresh MariaDB database, 3.7 seqs into
// a fresh Redis db, runs `upgrade --from 3.4.2` to
// 3.8.3 into a fresh Mongo database and returns it.
func migrate(t *testing.T) *mongo.Database {
	t.Helper()
	cl := connect(t)
	dsn := need(t, "OPENIM_TEST_MYSQL_DSN")
	raddr := need(t, "OPENIM_TEST_REDIS_ADDR")
	db := freshDB(t, cl)
	ctx := context.Background()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	root, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = root.Close() })
	name := db.Name()
	if _, err := root.Exec("CREATE DATABASE `" + name + "`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = root.Exec("DROP DATABASE `" + name + "`") })
	cfg.DBName, cfg.MultiStatements = name, true
	sdb, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sdb.Close() })
	convs, err := upgradetest.Seed(ctx, sdb)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: raddr, DB: 998})
	t.Cleanup(func() { _ = rdb.FlushDB(context.Background()); _ = rdb.Close() })
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := upgradetest.SeedRedis(ctx, rdb, convs); err != nil {
		t.Fatal(err)
	}
	zone, err := time.LoadLocation(upgradetest.Zone)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "redis.yml"), []byte("address: ["+raddr+"]\ndb: 998\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = upgrade.Run(ctx, upgrade.Options{
		OpenIMVersion: "3.8.3", From: "3.4.2", Yes: true, SkipBackup: true, StateDir: t.TempDir(),
		OpenIMConfigDir: dir, MySQLDSN: cfg.FormatDSN(),
		MongoURI: os.Getenv("OPENIM_TEST_MONGO_URI"), MongoDatabase: name, Log: testLog(t), Zone: zone,
	})
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	return db
}
