package upgrade

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"
)

// conns opens each backend on first use and closes what it opened.
type conns struct {
	o *Options
	// once: no client-side retries (the gate's probe retries on its own,
	// every gateRetry, and must notice a server that came up promptly).
	once bool

	mongoOnce sync.Once
	mongoDB   *mongo.Database
	mongoErr  error

	mysqlOnce sync.Once
	mysqlDB   *sql.DB
	mysqlErr  error

	redisOnce sync.Once
	redisC    redis.UniversalClient
	redisErr  error
}

func (c *conns) mongo(ctx context.Context) (*mongo.Database, error) {
	c.mongoOnce.Do(func() { c.mongoDB, c.mongoErr = c.openMongo(ctx) })
	return c.mongoDB, c.mongoErr
}

func (c *conns) openMongo(ctx context.Context) (*mongo.Database, error) {
	var mc MongoConf
	src := c.o.MongoURI
	dbName := ""
	if src == "" {
		p, err := readComponent(c.o.OpenIMConfigDir, "mongodb", c.o.Env, &mc)
		if err != nil {
			return nil, fmt.Errorf("MongoDB connection: %w", err)
		}
		src = p
		dbName = mc.Database
	}
	opts := options.Client().SetConnectTimeout(10 * time.Second).SetServerSelectionTimeout(15 * time.Second)
	switch {
	case c.o.MongoURI != "":
		opts.ApplyURI(c.o.MongoURI)
	case mc.URI != "":
		opts.ApplyURI(mc.URI)
	case len(mc.Address) > 0:
		opts.SetHosts(mc.Address)
		if mc.Username != "" {
			as := mc.AuthSource
			if as == "" {
				as = mc.Database
			}
			opts.SetAuth(options.Credential{Username: mc.Username, Password: mc.Password, AuthSource: as})
		}
	default:
		return nil, fmt.Errorf("MongoDB connection: %s has neither uri nor address", src)
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("MongoDB connection (%s): %w", src, err)
	}
	if c.o.MongoDatabase != "" {
		dbName = c.o.MongoDatabase
	}
	if dbName == "" {
		dbName = "openim_v3"
	}
	cl, err := mongo.Connect(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect MongoDB (%s): %w", src, err)
	}
	if err := cl.Ping(ctx, readpref.Primary()); err != nil {
		_ = cl.Disconnect(context.Background())
		return nil, fmt.Errorf("connect MongoDB (%s): %w", src, err)
	}
	return cl.Database(dbName), nil
}

// errNoMySQL is returned when a step needs MySQL and none is configured.
var errNoMySQL = errors.New("no MySQL connection configured")

func (c *conns) mysql(ctx context.Context) (*sql.DB, error) {
	c.mysqlOnce.Do(func() { c.mysqlDB, c.mysqlErr = c.openMySQL(ctx) })
	return c.mysqlDB, c.mysqlErr
}

// mysqlSource is the one place the MySQL connection is chosen, first found:
// --mysql-dsn, $OPENIM_MYSQL_DSN (process environment), OPENIM_MYSQL_DSN in
// the supervisor's env file, the mysql: section of OpenIM 3.4's config.yaml.
func (c *conns) mysqlSource() (dsn, from string, err error) {
	if c.o.MySQLDSN != "" {
		return c.o.MySQLDSN, "--mysql-dsn", nil
	}
	if v, ok := c.o.LookupEnv(EnvMySQLDSN); ok && v != "" {
		return v, "$" + EnvMySQLDSN, nil
	}
	if v := c.o.Env[EnvMySQLDSN]; v != "" {
		return v, EnvMySQLDSN + " in the env file", nil
	}
	if c.o.OldConfig == "" {
		return "", "", fmt.Errorf("%w: OpenIM 3.4's users and groups are in MySQL and this step copies them; "+
			"pass --old-config /path/to/openim-3.4/config/config.yaml (its mysql: section is used), "+
			"or set %s=user:password@tcp(host:3306)/openIM_v3", errNoMySQL, EnvMySQLDSN)
	}
	oc, err := readOldConfig(c.o.OldConfig)
	if err != nil {
		return "", "", err
	}
	if oc.MySQL == nil {
		return "", "", fmt.Errorf("%w: %s has no mysql: section, so the MySQL data cannot be migrated; "+
			"pass the OpenIM 3.4 config that has it with --old-config, or set %s", errNoMySQL, c.o.OldConfig, EnvMySQLDSN)
	}
	dsn, err = oc.MySQL.dsn()
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", c.o.OldConfig, err)
	}
	return dsn, c.o.OldConfig + " (mysql:)", nil
}

// describe names where each connection comes from, without secrets.
func (c *conns) describe() string {
	mongo := "mongodb.yml in " + c.o.OpenIMConfigDir
	if c.o.MongoURI != "" {
		mongo = "--mongo-uri"
	}
	redis := "redis.yml in " + c.o.OpenIMConfigDir
	if c.o.RedisAddr != "" {
		redis = "--redis-addr " + c.o.RedisAddr
	}
	mysql := "none"
	if _, from, err := c.mysqlSource(); err == nil {
		mysql = from
	}
	return fmt.Sprintf("mongo from %s, redis from %s, mysql from %s", mongo, redis, mysql)
}

// s3Engine is OpenIM 3.4's object.enable (what s3.engine is filled with).
func (c *conns) s3Engine() string {
	if c.o.OldConfig != "" {
		if oc, err := readOldConfig(c.o.OldConfig); err == nil && oc.Object.Enable != "" {
			return oc.Object.Enable
		}
	}
	return DefaultS3Engine
}

func (c *conns) openMySQL(ctx context.Context) (*sql.DB, error) {
	dsn, from, err := c.mysqlSource()
	if err != nil {
		return nil, err
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("MySQL DSN from %s: %w", from, err)
	}
	// DATETIME values are read as text and converted in the configured zone
	// by the migration, never in the process's local zone.
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("MySQL DSN from %s: %w", from, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect MySQL (%s, from %s): %w", cfg.Addr, from, err)
	}
	return db, nil
}

func (c *conns) redis(ctx context.Context) (redis.UniversalClient, error) {
	c.redisOnce.Do(func() { c.redisC, c.redisErr = c.openRedis(ctx) })
	return c.redisC, c.redisErr
}

func (c *conns) openRedis(ctx context.Context) (redis.UniversalClient, error) {
	var rc RedisConf
	src := "--redis-addr"
	if c.o.RedisAddr != "" {
		rc.Address = []string{c.o.RedisAddr}
	} else {
		p, err := readComponent(c.o.OpenIMConfigDir, "redis", c.o.Env, &rc)
		if err != nil {
			return nil, fmt.Errorf("Redis connection: %w", err)
		}
		src = p
	}
	if len(rc.Address) == 0 {
		return nil, fmt.Errorf("Redis connection: %s has no address", src)
	}
	uo := &redis.UniversalOptions{Addrs: rc.Address, Username: rc.Username, Password: rc.Password, DB: rc.DB}
	if c.once {
		uo.MaxRetries = -1
	}
	var cl redis.UniversalClient
	if rc.ClusterMode {
		cl = redis.NewClusterClient(uo.Cluster())
	} else {
		cl = redis.NewClient(uo.Simple())
	}
	if err := cl.Ping(ctx).Err(); err != nil {
		_ = cl.Close()
		return nil, fmt.Errorf("connect Redis (%s): %w", src, err)
	}
	return cl, nil
}

func (c *conns) close() {
	if c.mongoDB != nil {
		_ = c.mongoDB.Client().Disconnect(context.Background())
	}
	if c.mysqlDB != nil {
		_ = c.mysqlDB.Close()
	}
	if c.redisC != nil {
		_ = c.redisC.Close()
	}
}
