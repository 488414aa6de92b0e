package upgrade

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

func TestReadComponent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := openimconf.WriteDefaults(dir, "3.8.3", false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"IMENV_MONGODB_ADDRESS": "m1:27017,m2:27017", "IMENV_MONGODB_PASSWORD": "pw", "IMENV_REDIS_PASSWORD": ""}
	var mc MongoConf
	if _, err := readComponent(dir, "mongodb", env, &mc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mc.Address, []string{"m1:27017", "m2:27017"}) || mc.Password != "pw" || mc.Database != "openim_v3" || mc.AuthSource != "openim_v3" {
		t.Errorf("mongo: %+v", mc)
	}
	var rc RedisConf
	if _, err := readComponent(dir, "redis", env, &rc); err != nil {
		t.Fatal(err)
	}
	if rc.Password != "openIM123" || rc.DB != 0 { // an empty variable is unset, as in OpenIM
		t.Errorf("redis: %+v", rc)
	}
	p := filepath.Join(dir, "redis.yml")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "db: 0", "db: 2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readComponent(dir, "redis", nil, &rc); err != nil || rc.DB != 2 {
		t.Errorf("db: 2 (OpenIM 3.7's key): %+v %v", rc, err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "db: 0", "storage: 3", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readComponent(dir, "redis", nil, &rc); err != nil || rc.DB != 3 {
		t.Errorf("storage: 3 (OpenIM 3.8.3's key): %+v %v", rc, err)
	}
	if _, err := readComponent(t.TempDir(), "mongodb", nil, &mc); !errors.Is(err, errNotConfigured) {
		t.Errorf("missing file: %v", err)
	}
}
