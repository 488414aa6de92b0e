package openimtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/testenv"
)

// Env is where the shared component servers and the real OpenIM 3.8.3 build
// are, as scripts/test-services.sh writes them to .cache/test-env.sh.
type Env struct {
	MongoURI    string // OPENIM_TEST_MONGO_URI, mongodb://host:port/ without credentials (FerretDB)
	RedisAddr   string // OPENIM_TEST_REDIS_ADDR, host:port, no password, 1000 databases
	EtcdAddr    string // OPENIM_TEST_ETCD_ADDR, host:port
	KafkaAddr   string // OPENIM_TEST_KAFKA_ADDR, host:port (kfake; topics are auto-created)
	S3Endpoint  string // OPENIM_TEST_S3_ENDPOINT, http://host:port (gofakes3)
	S3AccessKey string // OPENIM_TEST_S3_ACCESS_KEY
	S3SecretKey string // OPENIM_TEST_S3_SECRET_KEY
	BinDir      string // OPENIM_TEST_OPENIM_BIN: the 12 services and 3 tools of OpenIM 3.8.3
	ConfigDir   string // OPENIM_TEST_OPENIM_CONFIG: OpenIM 3.8.3's pristine config/ (read only)
}

// envVars maps each variable to its field, in the order of the README.
func (e *Env) envVars() []struct {
	name string
	dst  *string
} {
	return []struct {
		name string
		dst  *string
	}{
		{"OPENIM_TEST_MONGO_URI", &e.MongoURI},
		{"OPENIM_TEST_REDIS_ADDR", &e.RedisAddr},
		{"OPENIM_TEST_ETCD_ADDR", &e.EtcdAddr},
		{"OPENIM_TEST_KAFKA_ADDR", &e.KafkaAddr},
		{"OPENIM_TEST_S3_ENDPOINT", &e.S3Endpoint},
		{"OPENIM_TEST_S3_ACCESS_KEY", &e.S3AccessKey},
		{"OPENIM_TEST_S3_SECRET_KEY", &e.S3SecretKey},
		{"OPENIM_TEST_OPENIM_BIN", &e.BinDir},
		{"OPENIM_TEST_OPENIM_CONFIG", &e.ConfigDir},
	}
}

// Services returns the names of OpenIM 3.8.3's 12 service binaries, in the
// order of its start-config.yml.
func Services() []string {
	return []string{
		"openim-api", "openim-crontask", "openim-rpc-user", "openim-msggateway", "openim-push",
		"openim-msgtransfer", "openim-rpc-conversation", "openim-rpc-auth", "openim-rpc-group",
		"openim-rpc-friend", "openim-rpc-msg", "openim-rpc-third",
	}
}

// Tools returns OpenIM 3.8.3's pre-start tools, in the order it runs them
// (start-config.yml toolBinaries).
func Tools() []string { return []string{"check-free-memory", "check-component", "seq"} }

// DefaultInstances returns a service's instance count in OpenIM 3.8.3's
// start-config.yml: 8 for openim-push and openim-msgtransfer, else 1.
func DefaultInstances(service string) int {
	switch service {
	case "openim-push", "openim-msgtransfer":
		return 8
	}
	return 1
}

// LoadEnv reads the OPENIM_TEST_* variables and checks that the binaries and
// the config dir are there. The error names every variable that is missing.
func LoadEnv() (Env, error) {
	var e Env
	var missing []string
	for _, v := range e.envVars() {
		*v.dst = os.Getenv(v.name)
		if *v.dst == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return e, fmt.Errorf("%s not set: run `scripts/test-services.sh start` and `. .cache/test-env.sh`",
			strings.Join(missing, ", "))
	}
	for _, n := range append(Services(), Tools()...) {
		if fi, err := os.Stat(filepath.Join(e.BinDir, n)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return e, fmt.Errorf("OPENIM_TEST_OPENIM_BIN=%s: no executable %s (build it with scripts/openim-real.sh build)", e.BinDir, n)
		}
	}
	if _, err := os.Stat(filepath.Join(e.ConfigDir, "share.yml")); err != nil {
		return e, fmt.Errorf("OPENIM_TEST_OPENIM_CONFIG=%s: not OpenIM's config dir: %w", e.ConfigDir, err)
	}
	return e, nil
}

// Require returns the Env, or skips the test when it is incomplete; with
// OPENIM_TEST_STRICT=1 (CI) an incomplete Env fails the test instead.
func Require(t testing.TB) Env {
	t.Helper()
	e, err := LoadEnv()
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("real OpenIM test environment: %v", err))
	}
	return e
}
