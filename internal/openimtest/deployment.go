package openimtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Options shape a Deployment. The zero value is OpenIM 3.8.3 as shipped:
// all 12 services with start-config.yml's instance counts (26 instances),
// OpenIM's admin user and log level, a random secret and free ports.
type Options struct {
	// Secret is share.yml's secret (the admin token's password). Default: random.
	Secret string
	// AdminUserID is share.yml's imAdminUserID. Default: "imAdmin" (OpenIM's).
	AdminUserID string
	// APIPort is openim-api's port (instance 0). Default: a free port.
	APIPort int
	// Services to run under the supervisor. Default: all 12 (Services()).
	Services []string
	// Instances overrides a service's instance count. Default: DefaultInstances.
	Instances map[string]int
	// LogLevel is log.yml's remainLogLevel (3 info ... 6 debug). Default: OpenIM's (6).
	LogLevel int
	// EnvFile, when not empty, is written as the supervisor's env file
	// (KEY=VALUE, mode 0600), e.g. IMENV_* overrides.
	EnvFile map[string]string
	// FreshKafkaGroups leaves the consumer groups without committed
	// offsets, as on an installation's first start (see prepareKafka); the
	// topics are created either way.
	FreshKafkaGroups bool
}

// Deployment is one OpenIM 3.8.3 set of its own on the shared component
// servers: a config dir that points at them, isolated from every other
// deployment (its own Mongo database, Redis database number, etcd root,
// Kafka topics and consumer groups, S3 bucket, local-cache channels and
// ports), and an openim-supervisor config.yaml that runs it. Everything on
// disk is under Dir (a t.TempDir()); the cleanup registered by New drops the
// Mongo database, flushes the Redis database and deletes the etcd keys.
//
// New starts nothing: run the supervisor on SupervisorConfig (StartSupervisor)
// or start the binaries yourself with `-i INDEX -c ConfigDir`.
type Deployment struct {
	Env Env
	// ID is 8 random hex digits; every name below is derived from it.
	ID string
	// Dir holds everything: openim-config/, the supervisor's config.yaml,
	// bin/log/run/state dirs and OpenIM's own log files (openim-logs/).
	Dir string
	// ConfigDir is OpenIM's config dir for this deployment (`-c`).
	ConfigDir string
	// SupervisorConfig is the openim-supervisor config.yaml.
	SupervisorConfig string

	Secret      string
	AdminUserID string

	// Services and their instance counts, in start order.
	Services  []string
	Instances map[string]int
	// Ports per service and instance: APIPorts for openim-api, GatewayPorts
	// for openim-msggateway's websocket (longConnSvr), RPCPorts for the gRPC
	// ports of every RPC service, openim-push and openim-msggateway.
	APIPorts     []int
	GatewayPorts []int
	RPCPorts     map[string][]int

	MongoDatabase string
	RedisDB       int
	EtcdRoot      string            // discovery.yml etcd.rootDirectory
	KafkaTopics   map[string]string // kafka.yml key (toRedisTopic ...) -> topic
	KafkaGroups   map[string]string // kafka.yml key (toRedisGroupID ...) -> consumer group
	Bucket        string            // minio.yml bucket
}

// APIURL is openim-api's base URL, http://127.0.0.1:PORT.
func (d *Deployment) APIURL() string {
	return "http://127.0.0.1:" + strconv.Itoa(d.APIPorts[0])
}

// Client returns an API client for this deployment's openim-api (instance 0)
// as its admin user.
func (d *Deployment) Client() *Client {
	return NewClient(d.APIURL(), d.Secret, d.AdminUserID)
}

// WaitUsable waits until openim-api serves a request through every RPC
// service of the deployment (see Client.WaitUsable).
func (d *Deployment) WaitUsable(ctx context.Context) error {
	return d.Client().WaitUsable(ctx, d.Services...)
}

// New writes a fresh deployment under t.TempDir() and registers the cleanup
// of its data on the shared servers. It fails the test on any error.
func New(t testing.TB, env Env, o Options) *Deployment {
	t.Helper()
	d, err := newDeployment(t.TempDir(), env, o)
	if err != nil {
		t.Fatalf("openimtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.dropData(ctx); err != nil {
			t.Logf("openimtest: cleaning up deployment %s: %v", d.ID, err)
		}
	})
	return d
}

func newDeployment(dir string, env Env, o Options) (*Deployment, error) {
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	d := &Deployment{
		Env:              env,
		ID:               hex.EncodeToString(id),
		Dir:              dir,
		ConfigDir:        filepath.Join(dir, "openim-config"),
		SupervisorConfig: filepath.Join(dir, "config.yaml"),
		Secret:           o.Secret,
		AdminUserID:      o.AdminUserID,
		Services:         o.Services,
		Instances:        map[string]int{},
		RPCPorts:         map[string][]int{},
	}
	if d.Secret == "" {
		s := make([]byte, 12)
		if _, err := rand.Read(s); err != nil {
			return nil, err
		}
		d.Secret = hex.EncodeToString(s)
	}
	if d.AdminUserID == "" {
		d.AdminUserID = "imAdmin"
	}
	if len(d.Services) == 0 {
		d.Services = Services()
	}
	for _, s := range d.Services {
		if !slices.Contains(Services(), s) {
			return nil, fmt.Errorf("Options.Services: %q is not an OpenIM 3.8.3 service (%s)", s, strings.Join(Services(), ", "))
		}
	}
	for s, n := range o.Instances {
		if !slices.Contains(Services(), s) || n < 1 {
			return nil, fmt.Errorf("Options.Instances: %s: %d", s, n)
		}
	}
	// Every service gets ports, even one not run, so a test can start it by hand.
	for _, s := range Services() {
		d.Instances[s] = DefaultInstances(s)
		if n, ok := o.Instances[s]; ok {
			d.Instances[s] = n
		}
	}
	if err := d.pickPorts(o.APIPort); err != nil {
		return nil, err
	}
	d.MongoDatabase = "openimtest_" + d.ID
	d.EtcdRoot = "openimtest/" + d.ID
	d.Bucket = "openimtest-" + d.ID
	d.KafkaTopics = map[string]string{}
	d.KafkaGroups = map[string]string{}
	for _, k := range kafkaKeys() {
		name := strings.TrimSuffix(k.TopicKey, "Topic")
		d.KafkaTopics[k.TopicKey] = "openimtest." + d.ID + "." + name
		d.KafkaGroups[k.GroupKey] = "openimtest." + d.ID + "." + strings.TrimPrefix(name, "to")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := allocRedisDB(ctx, env.RedisAddr)
	if err != nil {
		return nil, err
	}
	d.RedisDB = db
	if err := d.prepareKafka(ctx, !o.FreshKafkaGroups); err != nil {
		return nil, err
	}
	if err := d.writeOpenIMConfig(o); err != nil {
		return nil, err
	}
	if err := d.writeSupervisorConfig(o); err != nil {
		return nil, err
	}
	return d, nil
}

// pickPorts gives every port of every service a free port (checked on all
// interfaces, as openim-msggateway's websocket binds 0.0.0.0).
func (d *Deployment) pickPorts(apiPort int) error {
	need := d.Instances["openim-api"] + 2*d.Instances["openim-msggateway"]
	rpc := rpcServices()
	for _, s := range rpc {
		need += d.Instances[s]
	}
	ports, err := freePorts(need)
	if err != nil {
		return err
	}
	take := func(n int) []int {
		p := ports[:n]
		ports = ports[n:]
		return p
	}
	d.APIPorts = take(d.Instances["openim-api"])
	if apiPort != 0 {
		d.APIPorts[0] = apiPort
	}
	d.GatewayPorts = take(d.Instances["openim-msggateway"])
	for _, s := range rpc {
		d.RPCPorts[s] = take(d.Instances[s])
	}
	return nil
}

// rpcServices are the services with rpc.ports in their yml.
func rpcServices() []string {
	return []string{
		"openim-rpc-auth", "openim-rpc-user", "openim-rpc-friend", "openim-rpc-group",
		"openim-rpc-conversation", "openim-rpc-third", "openim-rpc-msg", "openim-push", "openim-msggateway",
	}
}

// freePorts returns n distinct ports that were free when asked. They are held
// open together so no two are the same.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// writeOpenIMConfig copies the pristine config dir and points it at the
// shared servers and this deployment's names and ports.
func (d *Deployment) writeOpenIMConfig(o Options) error {
	if err := copyDir(d.Env.ConfigDir, d.ConfigDir); err != nil {
		return fmt.Errorf("copy OpenIM's config: %w", err)
	}
	s3, err := url.Parse(d.Env.S3Endpoint)
	if err != nil || s3.Host == "" {
		return fmt.Errorf("OPENIM_TEST_S3_ENDPOINT=%q: want http://host:port", d.Env.S3Endpoint)
	}
	logs := filepath.Join(d.Dir, "openim-logs") + string(filepath.Separator)
	if err := os.MkdirAll(logs, 0o750); err != nil {
		return err
	}
	rpcEdits := func(s string, listen bool) map[string]any {
		e := map[string]any{
			"rpc.registerIP":    "127.0.0.1",
			"rpc.ports":         d.RPCPorts[s],
			"prometheus.enable": false,
		}
		if listen {
			e["rpc.listenIP"] = "127.0.0.1"
		}
		return e
	}
	edits := map[string]map[string]any{
		"share.yml": {"secret": d.Secret, "imAdminUserID": []string{d.AdminUserID}},
		"discovery.yml": {
			"enable": "etcd", "etcd.rootDirectory": d.EtcdRoot, "etcd.address": []string{d.Env.EtcdAddr},
		},
		// FerretDB rejects SCRAM logins: a URI without credentials.
		"mongodb.yml": {
			"uri": d.Env.MongoURI, "database": d.MongoDatabase, "username": "", "password": "", "authSource": "",
		},
		"redis.yml": {"address": []string{d.Env.RedisAddr}, "password": "", "db": d.RedisDB},
		"kafka.yml": func() map[string]any {
			e := map[string]any{"address": []string{d.Env.KafkaAddr}}
			for k, v := range d.KafkaTopics {
				e[k] = v
			}
			for k, v := range d.KafkaGroups {
				e[k] = v
			}
			return e
		}(),
		"minio.yml": {
			"bucket": d.Bucket, "accessKeyID": d.Env.S3AccessKey, "secretAccessKey": d.Env.S3SecretKey,
			"internalAddress": s3.Host, "externalAddress": "http://" + s3.Host,
		},
		"log.yml": {"storageLocation": logs, "isStdout": true},
		"local-cache.yml": {
			"user.topic":         "openimtest." + d.ID + ".DELETE_CACHE_USER",
			"group.topic":        "openimtest." + d.ID + ".DELETE_CACHE_GROUP",
			"friend.topic":       "openimtest." + d.ID + ".DELETE_CACHE_FRIEND",
			"conversation.topic": "openimtest." + d.ID + ".DELETE_CACHE_CONVERSATION",
		},
		"openim-api.yml": {
			"api.listenIP": "127.0.0.1", "api.ports": d.APIPorts,
			"prometheus.enable": false,
		},
		"openim-msggateway.yml": func() map[string]any {
			e := rpcEdits("openim-msggateway", false)
			e["listenIP"] = "127.0.0.1"
			e["longConnSvr.ports"] = d.GatewayPorts
			return e
		}(),
		"openim-msgtransfer.yml": {"prometheus.enable": false},
		"openim-push.yml":        rpcEdits("openim-push", true),
	}
	if o.LogLevel != 0 {
		edits["log.yml"]["remainLogLevel"] = o.LogLevel
	}
	for _, s := range rpcServices() {
		if strings.HasPrefix(s, "openim-rpc-") {
			edits[s+".yml"] = rpcEdits(s, true)
		}
	}
	for file, e := range edits {
		var adds map[string]yamlAdd
		if file == "redis.yml" {
			adds = map[string]yamlAdd{redisDBKey: {d.RedisDB, redisDBComment}}
		}
		if err := editAddYAML(filepath.Join(d.ConfigDir, file), e, adds); err != nil {
			return err
		}
	}
	return nil
}

// OpenIM 3.8.3 reads the Redis database number from the key "storage"
// (pkg/common/config/config.go: `DB int mapstructure:"storage"`), not from
// the "db" its redis.yml ships: "db" is ignored and every service uses
// database 0. A deployment writes both, so its data stays in its own
// database.
const (
	redisDBKey     = "storage"
	redisDBComment = "openimtest: OpenIM 3.8.3 reads the database number from this key, not from db"
)

// copyDir copies the regular files of src into a new dst (0700 dirs, 0600
// files: the copy holds the deployment's secret).
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o600)
	})
}
