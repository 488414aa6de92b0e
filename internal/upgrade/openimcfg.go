package upgrade

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// The parts of OpenIM's own config files the migrations read. OpenIM 3.7+
// keeps one yml per component in the config dir (mongodb.yml, redis.yml);
// OpenIM 3.4 kept everything in one config.yaml with a mysql: section.

// MongoConf is mongodb.yml.
type MongoConf struct {
	URI         string   `yaml:"uri"`
	Address     []string `yaml:"address"`
	Database    string   `yaml:"database"`
	Username    string   `yaml:"username"`
	Password    string   `yaml:"password"`
	AuthSource  string   `yaml:"authSource"`
	MaxPoolSize int      `yaml:"maxPoolSize"`
}

// RedisConf is redis.yml.
type RedisConf struct {
	Address     []string `yaml:"address"`
	Username    string   `yaml:"username"`
	Password    string   `yaml:"password"`
	ClusterMode bool     `yaml:"clusterMode"`
	DB          int      `yaml:"db"`
}

// MySQLConf is the mysql: section of OpenIM 3.4's config.yaml.
type MySQLConf struct {
	Address  []string `yaml:"address"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Database string   `yaml:"database"`
}

// oldConf is the part of OpenIM 3.4's config.yaml we read.
type oldConf struct {
	MySQL  *MySQLConf `yaml:"mysql"`
	Object struct {
		Enable string `yaml:"enable"`
	} `yaml:"object"`
}

// errNotConfigured says a component's config file does not exist.
var errNotConfigured = errors.New("not configured")

// readComponent reads <dir>/<name>.yml into out (*MongoConf or *RedisConf)
// through internal/openimconf, as OpenIM 3.8.3 reads it: IMENV_<NAME>_<KEY>
// overrides from env (the supervisor's env file), then from the process
// environment, only for keys present in the file, lists comma-separated.
// Redis: the database is OpenIM 3.8.3's `storage`, else the `db` key that
// OpenIM up to 3.7 read (where the data to migrate was written).
func readComponent(dir, name string, env map[string]string, out any) (string, error) {
	p := filepath.Join(dir, name+".yml")
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return p, fmt.Errorf("%s: %w", p, errNotConfigured)
	}
	d, err := openimconf.Load(dir, openimconf.Options{Env: env})
	if err != nil {
		return p, fmt.Errorf("read %s: %w", p, err)
	}
	switch o := out.(type) {
	case *MongoConf:
		var m openimconf.Mongo
		if err := d.Decode(name+".yml", &m); err != nil {
			return p, err
		}
		*o = MongoConf{URI: m.URI, Address: m.Address, Database: m.Database, Username: m.Username,
			Password: m.Password, AuthSource: m.AuthSource, MaxPoolSize: m.MaxPoolSize}
	case *RedisConf:
		var r struct {
			openimconf.Redis `mapstructure:",squash"`
			LegacyDB         int `mapstructure:"db"`
		}
		if err := d.Decode(name+".yml", &r); err != nil {
			return p, err
		}
		db := r.DB
		if db == 0 {
			db = r.LegacyDB
		}
		*o = RedisConf{Address: r.Address, Username: r.Username, Password: r.Password, ClusterMode: r.ClusterMode, DB: db}
	default:
		return p, fmt.Errorf("readComponent: cannot read into %T", out)
	}
	return p, nil
}

// readOldConfig reads OpenIM 3.4's config.yaml.
func readOldConfig(path string) (*oldConf, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read OpenIM 3.4 config %s: %w", path, err)
	}
	var c oldConf
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse OpenIM 3.4 config %s: %w", path, err)
	}
	return &c, nil
}

// mysqlDSN builds a go-sql-driver DSN from the old config's mysql: section.
func (c *MySQLConf) dsn() (string, error) {
	if c == nil || len(c.Address) == 0 {
		return "", errors.New("the mysql: section has no address")
	}
	db := c.Database
	if db == "" {
		db = "openIM_v3"
	}
	return fmt.Sprintf("%s:%s@tcp(%s)/%s", c.Username, c.Password, c.Address[0], db), nil
}
