package upgrade

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
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

// readComponent reads <dir>/<name>.yml into out, applying OpenIM's
// environment overrides (IMENV_<NAME>_<KEY>, only for keys present in the
// file, lists comma-separated) from env, then from the process environment.
func readComponent(dir, name string, env map[string]string, out any) (string, error) {
	p := filepath.Join(dir, name+".yml")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return p, fmt.Errorf("%s: %w", p, errNotConfigured)
	}
	if err != nil {
		return p, fmt.Errorf("read %s: %w", p, err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return p, fmt.Errorf("parse %s: %w", p, err)
	}
	prefix := "IMENV_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_"
	for k, v := range m {
		ev, ok := lookupEnv(env, prefix+strings.ToUpper(k))
		if !ok {
			continue
		}
		switch v.(type) {
		case []any:
			var list []any
			for _, s := range strings.Split(ev, ",") {
				if s = strings.TrimSpace(s); s != "" {
					list = append(list, s)
				}
			}
			m[k] = list
		case bool:
			bv, err := strconv.ParseBool(ev)
			if err != nil {
				return p, fmt.Errorf("%s%s: %q is not a boolean", prefix, strings.ToUpper(k), ev)
			}
			m[k] = bv
		case int:
			n, err := strconv.Atoi(ev)
			if err != nil {
				return p, fmt.Errorf("%s%s: %q is not a number", prefix, strings.ToUpper(k), ev)
			}
			m[k] = n
		default:
			m[k] = ev
		}
	}
	b, err = yaml.Marshal(m)
	if err == nil {
		err = yaml.Unmarshal(b, out)
	}
	if err != nil {
		return p, fmt.Errorf("decode %s: %w", p, err)
	}
	return p, nil
}

func lookupEnv(env map[string]string, k string) (string, bool) {
	if v, ok := env[k]; ok {
		return v, true
	}
	return os.LookupEnv(k)
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
