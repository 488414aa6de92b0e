package upgrade

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/testenv"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Test servers come from scripts/test-services.sh (source .cache/test-env.sh).
// Without them the tests skip, unless OPENIM_TEST_STRICT=1 where they fail.

type servers struct {
	mysqlDSN  string // with the per-test database
	mysqlDB   *sql.DB
	mongoURI  string
	mongoName string
	mongo     *mongo.Database
	redisAddr string
	redisDB   int
	redis     *redis.Client
	name      string
}

func need(t *testing.T, vars ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var missing []string
	for _, v := range vars {
		out[v] = os.Getenv(v)
		if out[v] == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("test servers not configured (%s unset): run scripts/test-services.sh start && . .cache/test-env.sh",
			strings.Join(missing, ", "))
		testenv.Missing(t, msg)
	}
	return out
}

func randName(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// newServers gives the test a fresh Mongo database, and (when asked) a fresh
// MySQL database and Redis db number, dropped at cleanup.
func newServers(t *testing.T, withMySQL, withRedis bool) *servers {
	t.Helper()
	vars := []string{"OPENIM_TEST_MONGO_URI"}
	if withMySQL {
		vars = append(vars, "OPENIM_TEST_MYSQL_DSN")
	}
	if withRedis {
		vars = append(vars, "OPENIM_TEST_REDIS_ADDR")
	}
	env := need(t, vars...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := &servers{name: randName("t_")}
	s.mongoURI, s.mongoName = env["OPENIM_TEST_MONGO_URI"], s.name
	cl, err := mongo.Connect(ctx, options.Client().ApplyURI(s.mongoURI))
	if err != nil {
		t.Fatal(err)
	}
	s.mongo = cl.Database(s.mongoName)
	t.Cleanup(func() {
		_ = s.mongo.Drop(context.Background())
		_ = cl.Disconnect(context.Background())
	})
	if withMySQL {
		cfg, err := mysql.ParseDSN(env["OPENIM_TEST_MYSQL_DSN"])
		if err != nil {
			t.Fatal(err)
		}
		root, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := root.ExecContext(ctx, "CREATE DATABASE `"+s.name+"` CHARACTER SET utf8mb4"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = root.Exec("DROP DATABASE `" + s.name + "`")
			_ = root.Close()
		})
		cfg.DBName = s.name
		cfg.MultiStatements = true
		s.mysqlDSN = cfg.FormatDSN()
		if s.mysqlDB, err = sql.Open("mysql", s.mysqlDSN); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.mysqlDB.Close() })
	}
	if withRedis {
		s.redisAddr = env["OPENIM_TEST_REDIS_ADDR"]
		// Redis runs with 1000 databases; each test takes a random one.
		var b [2]byte
		_, _ = rand.Read(b[:])
		s.redisDB = 1 + (int(b[0])<<8|int(b[1]))%999
		s.redis = redis.NewClient(&redis.Options{Addr: s.redisAddr, DB: s.redisDB})
		if err := s.redis.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = s.redis.FlushDB(context.Background()).Err()
			_ = s.redis.Close()
		})
	}
	return s
}

// openimDir writes an OpenIM config dir for the servers: mongodb.yml and
// redis.yml in OpenIM 3.8's format, and (mysqlSection) a 3.4 config.yaml.
func (s *servers) openimDir(t *testing.T, mysqlSection bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "openim-config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mongodb.yml", fmt.Sprintf("uri: %q\naddress: [localhost:37017]\ndatabase: %s\nusername: ''\npassword: ''\nmaxPoolSize: 10\nmaxRetry: 3\n",
		s.mongoURI, s.mongoName))
	if s.redisAddr != "" {
		write("redis.yml", fmt.Sprintf("address: [%s]\nusername: ''\npassword: ''\nclusterMode: false\ndb: %d\nmaxRetry: 3\n", s.redisAddr, s.redisDB))
	}
	if s.mysqlDSN != "" {
		cfg, _ := mysql.ParseDSN(s.mysqlDSN)
		body := "object:\n  enable: minio\n"
		if mysqlSection {
			body += fmt.Sprintf("mysql:\n  address: [ %s ]\n  username: %s\n  password: '%s'\n  database: %s\n  maxOpenConn: 1000\n",
				cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName)
		}
		write("config.yaml", body)
	}
	return dir
}

func (s *servers) loadSQL(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.mysqlDB.Exec(string(b)); err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
}
