//go:build linux

// Command migration benchmarks step 3.5.0 (OpenIM 3.4 MySQL -> MongoDB):
// the real openim-supervisor binary against a faithful re-implementation of
// OpenIM's tools/up35 approach (pages of LIMIT 100 OFFSET n without ORDER BY,
// InsertMany, one-by-one fallback on duplicates), side by side in one run,
// each in its own process so peak RSS is measured per implementation.
//
// Run it with bench/migration/run.sh (not part of `make test`).
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func main() {
	mode := flag.String("mode", "bench", "bench | up35 (internal: the up35 child)")
	rows := flag.Int("rows", 1_000_000, "rows seeded in users and in group_members each")
	up35Rows := flag.Int("up35-rows", 0, "stop up35 after this many rows per table and extrapolate (0 = all)")
	bin := flag.String("bin", "bin/openim-supervisor", "openim-supervisor binary")
	schema := flag.String("schema", "internal/upgrade/testdata/openim34.sql", "OpenIM 3.4 CREATE TABLEs")
	mysqlDSN := flag.String("mysql", os.Getenv("OPENIM_TEST_MYSQL_DSN"), "MySQL DSN (server root, no database)")
	mongoURI := flag.String("mongo", os.Getenv("OPENIM_TEST_MONGO_URI"), "MongoDB URI")
	db := flag.String("db", "", "(up35 child) database names")
	keep := flag.Bool("keep", false, "keep the benchmark databases")
	flag.Parse()
	var err error
	switch *mode {
	case "up35":
		err = up35(context.Background(), *mysqlDSN, *mongoURI, *db, *up35Rows)
	default:
		err = bench(context.Background(), *bin, *schema, *mysqlDSN, *mongoURI, *rows, *up35Rows, *keep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "migration bench:", err)
		os.Exit(1)
	}
}

type result struct {
	name   string
	rows   int64
	took   time.Duration
	maxRSS int64 // KiB
	note   string
	perSec float64
}

func bench(ctx context.Context, bin, schema, dsn, mongoURI string, n, up35Rows int, keep bool) error {
	if dsn == "" || mongoURI == "" {
		return errors.New("OPENIM_TEST_MYSQL_DSN and OPENIM_TEST_MONGO_URI must be set (scripts/test-services.sh start; . .cache/test-env.sh)")
	}
	name := fmt.Sprintf("bench_%d", time.Now().Unix())
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return err
	}
	root, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := root.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		return err
	}
	mc, err := mongo.Connect(ctx, options.Client().ApplyURI(mongoURI))
	if err != nil {
		return err
	}
	defer mc.Disconnect(ctx)
	if !keep {
		defer func() {
			_, _ = root.Exec("DROP DATABASE `" + name + "`")
			_ = mc.Database(name + "_ours").Drop(context.Background())
			_ = mc.Database(name + "_up35").Drop(context.Background())
		}()
	}
	cfg.DBName, cfg.MultiStatements = name, true
	sdb, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer sdb.Close()
	b, err := os.ReadFile(schema)
	if err != nil {
		return err
	}
	if _, err := sdb.ExecContext(ctx, string(b)); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	t0 := time.Now()
	fmt.Fprintf(os.Stderr, "seeding %d users and %d group_members ...\n", n, n)
	for _, q := range []string{
		fmt.Sprintf("INSERT INTO users SELECT CONCAT('user', LPAD(seq, 8, '0')), CONCAT('nick ', seq), CONCAT('http://face/', seq), '', '2023-01-01' + INTERVAL seq SECOND, 1, seq %% 3 FROM seq_1_to_%d", n),
		fmt.Sprintf("INSERT INTO group_members SELECT CONCAT('group', LPAD(seq %% 1000, 5, '0')), CONCAT('user', LPAD(seq, 8, '0')), CONCAT('m', seq), '', 20, '2023-02-01' + INTERVAL seq SECOND, 2, 'user00000001', '', NULL, '' FROM seq_1_to_%d", n),
	} {
		if _, err := sdb.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	fmt.Fprintf(os.Stderr, "seeded in %s\n", time.Since(t0).Round(time.Second))

	// Ours: the real binary, 3.4.2 -> 3.5.0, into <name>_ours.
	work, err := os.MkdirTemp("", "migration-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ocDir := filepath.Join(work, "openim")
	state := filepath.Join(work, "state")
	for _, d := range []string{ocDir, state, filepath.Join(work, "bin"), filepath.Join(work, "log"), filepath.Join(work, "run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	files := map[string]string{
		filepath.Join(ocDir, "mongodb.yml"): fmt.Sprintf("uri: %q\ndatabase: %s_ours\n", mongoURI, name),
		filepath.Join(ocDir, "config.yaml"): fmt.Sprintf("mysql:\n  address: [ %s ]\n  username: %s\n  password: '%s'\n  database: %s\nobject:\n  enable: minio\n",
			cfg.Addr, cfg.User, cfg.Passwd, name),
		filepath.Join(work, "config.yaml"): fmt.Sprintf("version: 2\npaths:\n  binDir: %[1]s/bin\n  openimConfigDir: %[1]s/openim\n  logDir: %[1]s/log\n  runtimeDir: %[1]s/run\n  stateDir: %[1]s/state\nprocesses:\n  - name: placeholder\n    command: /bin/sleep\n    args: [\"60\"]\n", work),
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return err
		}
	}
	var results []result
	r, _, err := measure("openim-supervisor upgrade", exec.Command(bin, "--config", filepath.Join(work, "config.yaml"), "upgrade",
		"--from", "3.4.2", "--to", "3.5.0", "--yes", "--skip-backup", "--batch-size", "2000"))
	if err != nil {
		return err
	}
	r.rows = int64(2 * n)
	results = append(results, r)
	if got, _ := mc.Database(name + "_ours").Collection("user").EstimatedDocumentCount(ctx); got != int64(n) {
		return fmt.Errorf("ours: %d users in Mongo, want %d", got, n)
	}

	// up35 re-implementation, in a child process.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-mode", "up35", "-mysql", cfg.FormatDSN(), "-mongo", mongoURI, "-db", name, "-up35-rows", fmt.Sprint(up35Rows))
	r, stdout, err := measure("up35 (LIMIT 100 OFFSET n)", child)
	if err != nil {
		return err
	}
	r.rows = int64(2 * n)
	if up35Rows > 0 && up35Rows < n {
		// Extrapolate per table: cost(k) = a*k + b*k^2 (inserts linear,
		// OFFSET scans quadratic); the child reports the time at k/2 and k
		// rows, which gives a and b; evaluate at n.
		var total float64
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var tbl string
			var k1, k2 int
			var t1, t2 float64
			if _, err := fmt.Sscan(line, &tbl, &k1, &t1, &k2, &t2); err != nil {
				return fmt.Errorf("up35 child output %q: %w", line, err)
			}
			est := extrapolate(float64(n), float64(k1), t1, float64(k2), t2)
			fmt.Fprintf(os.Stderr, "up35 %s: %.1fs at %d rows, %.1fs at %d rows -> %.0fs at %d rows\n", tbl, t1, k1, t2, k2, est, n)
			total += est
		}
		r.note = fmt.Sprintf("measured %s on the first %d rows per table; time extrapolated to %d rows (a*n + b*n^2 fitted at %d and %d rows)",
			r.took.Round(time.Second), up35Rows, n, up35Rows/2, up35Rows)
		r.took = time.Duration(total * float64(time.Second))
	}
	results = append(results, r)

	fmt.Printf("\n%d users + %d group_members (MariaDB -> FerretDB v1.24 SQLite), %s\n\n", n, n, time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| implementation | rows | time | rows/s | peak RSS | note |")
	fmt.Println("|---|---:|---:|---:|---:|---|")
	for _, r := range results {
		r.perSec = float64(r.rows) / r.took.Seconds()
		fmt.Printf("| %s | %d | %s | %.0f | %.1f MiB | %s |\n", r.name, r.rows, r.took.Round(time.Second), r.perSec, float64(r.maxRSS)/1024, r.note)
	}
	fmt.Printf("\nspeed-up: %.1fx\n", results[1].took.Seconds()/results[0].took.Seconds())
	return nil
}

// extrapolate fits t(k) = a*k + b*k^2 through (k1, t1) and (k2, t2) and
// returns t(n).
func extrapolate(n, k1, t1, k2, t2 float64) float64 {
	b := (t2/k2 - t1/k1) / (k2 - k1)
	a := t1/k1 - b*k1
	if b < 0 { // noise: fall back to linear
		return t2 / k2 * n
	}
	return a*n + b*n*n
}

func measure(name string, cmd *exec.Cmd) (result, string, error) {
	cmd.Stderr = os.Stderr
	out, err := os.CreateTemp("", "bench-out-")
	if err != nil {
		return result{}, "", err
	}
	defer os.Remove(out.Name())
	cmd.Stdout = out
	fmt.Fprintf(os.Stderr, "running %s ...\n", name)
	t0 := time.Now()
	err = cmd.Run()
	took := time.Since(t0)
	if err != nil {
		b, _ := os.ReadFile(out.Name())
		return result{}, "", fmt.Errorf("%s: %w\n%s", name, err, b)
	}
	stdout, _ := os.ReadFile(out.Name())
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r := result{name: name, took: took}
	if ru != nil {
		r.maxRSS = ru.Maxrss
	}
	fmt.Fprintf(os.Stderr, "%s: %s, peak RSS %.1f MiB\n", name, took.Round(time.Millisecond), float64(r.maxRSS)/1024)
	return r, string(stdout), nil
}

// up35 re-implements OpenIM's tools/up35 loop for the two benchmark tables:
// for page := 0; ; page++ { SELECT * FROM t LIMIT 100 OFFSET page*100 } (no
// ORDER BY), convert, InsertMany; on a duplicate-key error fall back to
// inserting the page's documents one by one, ignoring duplicates. The target
// collections get OpenIM 3.5's unique indexes first (up35 relies on them).
func up35(ctx context.Context, dsn, mongoURI, name string, limitRows int) error {
	sdb, err := sql.Open("mysql", dsn+"?parseTime=true&loc=Local")
	if strings.Contains(dsn, "?") {
		sdb, err = sql.Open("mysql", dsn+"&parseTime=true&loc=Local")
	}
	if err != nil {
		return err
	}
	defer sdb.Close()
	mc, err := mongo.Connect(ctx, options.Client().ApplyURI(mongoURI))
	if err != nil {
		return err
	}
	defer mc.Disconnect(ctx)
	mdb := mc.Database(name + "_up35")
	type tbl struct {
		src, dst string
		cols     string
		key      bson.D
		conv     func(*sql.Rows) (bson.M, error)
	}
	tables := []tbl{
		{"users", "user", "user_id, name, face_url, ex, create_time, app_manger_level, global_recv_msg_opt",
			bson.D{{Key: "user_id", Value: 1}},
			func(r *sql.Rows) (bson.M, error) {
				var id, nick, face, ex sql.NullString
				var ct sql.NullTime
				var lvl, opt sql.NullInt32
				err := r.Scan(&id, &nick, &face, &ex, &ct, &lvl, &opt)
				return bson.M{"user_id": id.String, "nickname": nick.String, "face_url": face.String, "ex": ex.String,
					"create_time": ct.Time, "app_manger_level": lvl.Int32, "global_recv_msg_opt": opt.Int32}, err
			}},
		{"group_members", "group_member", "group_id, user_id, nickname, user_group_face_url, role_level, join_time, join_source, inviter_user_id, operator_user_id, mute_end_time, ex",
			bson.D{{Key: "group_id", Value: 1}, {Key: "user_id", Value: 1}},
			func(r *sql.Rows) (bson.M, error) {
				var gid, uid, nick, face, inv, op, ex sql.NullString
				var role, src sql.NullInt32
				var jt, mt sql.NullTime
				err := r.Scan(&gid, &uid, &nick, &face, &role, &jt, &src, &inv, &op, &mt, &ex)
				return bson.M{"group_id": gid.String, "user_id": uid.String, "nickname": nick.String, "face_url": face.String,
					"role_level": role.Int32, "join_time": jt.Time, "join_source": src.Int32, "inviter_user_id": inv.String,
					"operator_user_id": op.String, "mute_end_time": mt.Time, "ex": ex.String}, err
			}},
	}
	for _, t := range tables {
		coll := mdb.Collection(t.dst)
		if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: t.key, Options: options.Index().SetUnique(true)}); err != nil {
			return err
		}
		done := 0
		t0 := time.Now()
		var tHalf float64
		half := limitRows / 2
		for page := 0; ; page++ {
			if half > 0 && tHalf == 0 && done >= half {
				tHalf = time.Since(t0).Seconds()
			}
			if limitRows > 0 && done >= limitRows {
				break
			}
			rows, err := sdb.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s LIMIT 100 OFFSET %d", t.cols, t.src, page*100))
			if err != nil {
				return err
			}
			var docs []any
			for rows.Next() {
				d, err := t.conv(rows)
				if err != nil {
					rows.Close()
					return err
				}
				docs = append(docs, d)
			}
			rows.Close()
			if len(docs) == 0 {
				break
			}
			done += len(docs)
			if _, err := coll.InsertMany(ctx, docs); err != nil {
				if !mongo.IsDuplicateKeyError(err) {
					return err
				}
				for _, d := range docs {
					if _, err := coll.InsertOne(ctx, d); err != nil && !mongo.IsDuplicateKeyError(err) {
						return err
					}
				}
			}
		}
		if limitRows > 0 {
			fmt.Printf("%s %d %.3f %d %.3f\n", t.src, half, tHalf, done, time.Since(t0).Seconds())
		}
	}
	return nil
}
