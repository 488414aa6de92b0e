package importer

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// imported writes the plan of src into a temp dir and loads the result as
// OpenIM 3.8.3 would see it (with the env file's IMENV_ overrides).
func imported(t *testing.T, src string, o Options) (*Plan, *openimconf.Config, string, string) {
	t.Helper()
	p, err := Read(src, o)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "config")
	envFile := filepath.Join(t.TempDir(), "openim.env")
	if _, err := p.Write(dir, envFile, "3.8.3", false); err != nil {
		t.Fatal(err)
	}
	env, err := config.ReadEnvFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(envFile); st.Mode().Perm() != 0o640 {
		t.Errorf("env file mode %04o, want 0640", st.Mode().Perm())
	}
	d, err := openimconf.Load(dir, openimconf.Options{Env: env, LookupEnv: openimconf.NoEnviron})
	if err != nil {
		t.Fatal(err)
	}
	r := openimconf.Check(d, openimconf.CheckOptions{})
	for _, e := range r.Errors {
		t.Errorf("the imported dir fails config check: %v", e)
	}
	for _, w := range r.Warnings {
		if !strings.Contains(w.Error(), "ignored by OpenIM 3.8.3") { // the 3 keys OpenIM's own files carry
			t.Errorf("warning on the imported dir: %v", w)
		}
	}
	if st, err := openimconf.Detect(dir); err != nil || !st.Stamped || st.Version != "3.8.3" {
		t.Errorf("stamp: %+v %v", st, err)
	}
	c, err := d.Typed()
	if err != nil {
		t.Fatal(err)
	}
	return p, c, dir, envFile
}

type want struct {
	name      string
	got, want any
}

func check(t *testing.T, ws []want) {
	t.Helper()
	for _, w := range ws {
		if !reflect.DeepEqual(w.got, w.want) {
			t.Errorf("%s: got %#v, want %#v", w.name, w.got, w.want)
		}
	}
}

// secretsOnlyInEnv: no secret value appears in any yml file.
func secretsOnlyInEnv(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("secret %q is in %s", s, e.Name())
			}
		}
	}
}

func unplaced(t *testing.T, p *Plan, from, value, why string) {
	t.Helper()
	for _, u := range p.Unplaced {
		if strings.Contains(u.From, from) && u.Value == value && strings.Contains(u.Why, why) {
			return
		}
	}
	t.Errorf("report lacks %s = %s (%s); it has:", from, value, why)
	for _, u := range p.Unplaced {
		t.Logf("  %s = %s (%s)", u.From, u.Value, u.Why)
	}
}

// shipped is OpenIM 3.8.3's own value of a setting (the import keeps it
// where the operator kept the old default).
func shipped(t *testing.T) *openimconf.Config {
	t.Helper()
	dir := t.TempDir()
	if _, err := openimconf.WriteDefaults(dir, "3.8.3", false); err != nil {
		t.Fatal(err)
	}
	d, err := openimconf.Load(dir, openimconf.Options{LookupEnv: openimconf.NoEnviron})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Typed()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestImport340(t *testing.T) {
	t.Parallel()
	p, c, dir, _ := imported(t, "testdata/3.4.0/config/config.yaml", Options{})
	def := shipped(t)
	if p.Version != "3.4.0" {
		t.Errorf("version %s", p.Version)
	}
	check(t, []want{
		{"share.secret", c.Share.Secret, "tiger#34 secret"},
		{"share.imAdminUserID", c.Share.IMAdminUserID, []string{"opsAdmin", "openIMAdmin"}},
		{"mongo.address", c.Mongo.Address, []string{"mongo1.internal:27017", "mongo2.internal:27017"}},
		{"mongo.username", c.Mongo.Username, "imuser"},
		{"mongo.password", c.Mongo.Password, "m0ngo-pass"},
		{"mongo.database", c.Mongo.Database, "openIM_v3"},
		{"mongo.authSource", c.Mongo.AuthSource, "openIM_v3"},
		{"mongo.uri", c.Mongo.URI, ""},
		{"redis.address", c.Redis.Address, []string{"redis.internal:6379"}},
		{"redis.password", c.Redis.Password, "r3dis-pass"},
		{"kafka.address", c.Kafka.Address, []string{"kafka1.internal:9092", "kafka2.internal:9092"}},
		{"kafka.password", c.Kafka.Password, ""},
		{"kafka.toRedisTopic (old default: 3.8.3's kept)", c.Kafka.ToRedisTopic, def.Kafka.ToRedisTopic},
		{"minio.externalAddress", c.Minio.ExternalAddress, "https://files.example.com"},
		{"minio.internalAddress", c.Minio.InternalAddress, "http://172.28.0.1:10005"},
		{"minio.accessKeyID", c.Minio.AccessKeyID, "root"},
		{"minio.secretAccessKey", c.Minio.SecretAccessKey, "openIM123"},
		{"third.object.enable", c.Third.Object.Enable, "minio"},
		{"api.ports", c.API.Api.Ports, []int{10102}},
		{"user rpc ports (old default: 3.8.3's kept)", c.User.RPC.Ports, def.User.RPC.Ports},
		{"log.remainLogLevel", c.Log.RemainLogLevel, 3},
		{"log.storageLocation (old default)", c.Log.StorageLocation, def.Log.StorageLocation},
		{"auth.tokenPolicy.expire", c.Auth.TokenPolicy.Expire, int64(30)},
		{"notification.groupCreated.isSendMsg", c.Notification.GroupCreated.IsSendMsg, false},
		{"discovery.enable", c.Discovery.Enable, "zookeeper"},
		{"discovery.zooKeeper.address", c.Discovery.ZooKeeper.Address, []string{"172.28.0.1:12181"}},
		{"share.rpcRegisterName.user (old default User: 3.8.3's kept)", c.Share.RpcRegisterName.User, "user"},
	})
	secretsOnlyInEnv(t, dir, "tiger#34 secret", "m0ngo-pass", "r3dis-pass")
	unplaced(t, p, "config.yaml:48 mysql.address", "[172.28.0.1:13306]", "3.5.0 data migration")
	unplaced(t, p, "config.yaml:50 mysql.password", "****", "MySQL")
	unplaced(t, p, "config.yaml:138 object.apiURL", "http://127.0.0.1:10002", "externalAddress")
	unplaced(t, p, "config.yaml:280 msgDestructTime", "0 2 * * *", "one cron time")
	unplaced(t, p, "config.yaml:253 manager.nickname", "[system1, system2, system3]", "nicknames")
	unplaced(t, p, "notification.yaml:150 groupCancelMuted.defaultTips.tips", "group Cancel Muted", "no such setting")
}

func TestImport351WithEnv(t *testing.T) {
	t.Parallel()
	p, c, dir, envFile := imported(t, "testdata/3.5.1", Options{})
	if p.Version != "3.5.1" {
		t.Errorf("version %s", p.Version)
	}
	check(t, []want{
		{"share.secret", c.Share.Secret, "s3cret-35"},
		{"mongo.address (MONGO_ADDRESS:MONGO_PORT)", c.Mongo.Address, []string{"mongo.internal:27017"}},
		{"mongo.username (file)", c.Mongo.Username, "im35"},
		{"mongo.password (MONGO_PASSWORD)", c.Mongo.Password, "m0ngo-35"},
		{"mongo.database", c.Mongo.Database, "openIM_v3"},
		{"mongo.authSource", c.Mongo.AuthSource, "openIM_v3"},
		{"redis.address (REDIS_ADDRESS list + REDIS_PORT)", c.Redis.Address, []string{"redis-a.internal:6379", "redis-b.internal:6379"}},
		{"redis.password (quoted in .env)", c.Redis.Password, "r3dis 35"},
		{"kafka.address (KAFKA_ADDRESS:KAFKA_PORT)", c.Kafka.Address, []string{"kafka.internal:9092"}},
		{"minio.externalAddress", c.Minio.ExternalAddress, "https://minio.example.org:9000"},
		{"api.ports", c.API.Api.Ports, []int{10202}},
		{"share.imAdminUserID (manager + im-admin)", c.Share.IMAdminUserID, []string{"openIM123456", "openIM654321", "openIMAdmin", "imAdmin"}},
	})
	secretsOnlyInEnv(t, dir, "s3cret-35", "m0ngo-35", "r3dis 35")
	b, _ := os.ReadFile(envFile)
	if !strings.Contains(string(b), "IMENV_REDIS_PASSWORD='r3dis 35'") {
		t.Errorf("env file:\n%s", b)
	}
	unplaced(t, p, "DATA_DIR", "/data/openim", "not read by OpenIM 3.5.1")
	unplaced(t, p, "MINIO_SECRET_KEY", "****", "not read by OpenIM 3.5.1")
	unplaced(t, p, "MONGO_OPENIM_USERNAME", "ignored-in-35", "read only from OpenIM 3.6 on")
}

func TestImport360WithEnv(t *testing.T) {
	t.Parallel()
	p, c, dir, _ := imported(t, "testdata/3.6.0/config", Options{})
	if p.Version != "3.6.0" {
		t.Errorf("version %s", p.Version)
	}
	check(t, []want{
		{"share.secret", c.Share.Secret, "s3cret-36"},
		{"mongo.address (MONGO_ADDRESS)", c.Mongo.Address, []string{"mongo36.internal:27017"}},
		{"mongo.username (MONGO_OPENIM_USERNAME)", c.Mongo.Username, "im36"},
		{"mongo.password (MONGO_OPENIM_PASSWORD)", c.Mongo.Password, "m0ngo-36"},
		{"mongo.database", c.Mongo.Database, "openim_v3"},
		{"redis.address (file; REDIS_PORT alone ignored)", c.Redis.Address, []string{"10.0.0.5:6379"}},
		{"redis.password (old default openIM123 = 3.8.3's)", c.Redis.Password, "openIM123"},
		{"kafka.address", c.Kafka.Address, []string{"10.0.0.6:9092"}},
		{"kafka.password", c.Kafka.Password, "k4fka-36"},
		{"minio.externalAddress", c.Minio.ExternalAddress, "https://cdn.example.net"},
		{"api.ports", c.API.Api.Ports, []int{10302}},
		{"log.storageLocation", c.Log.StorageLocation, "/var/log/openim36/"},
	})
	secretsOnlyInEnv(t, dir, "s3cret-36", "m0ngo-36", "k4fka-36")
	unplaced(t, p, "MONGO_USERNAME", "root", "MONGO_OPENIM_USERNAME")
	unplaced(t, p, "REDIS_PORT", "6380", "only used together with REDIS_ADDRESS")
	unplaced(t, p, "config.yaml:162 object.aws.publicRead", "false", "no publicRead")
	unplaced(t, p, "callback.afterSendSingleMsg.failedContinue", "true", "after-webhooks have no failedContinue")
}

func TestImport371WithIMENV(t *testing.T) {
	t.Parallel()
	p, c, dir, _ := imported(t, "testdata/3.7.1/config", Options{EnvFiles: []string{"testdata/3.7.1/.env"}})
	if p.Version != "3.7.1" {
		t.Errorf("version %s", p.Version)
	}
	def := shipped(t)
	check(t, []want{
		{"share.secret", c.Share.Secret, "s3cret-37"},
		{"share.multiLogin.policy (from openim-msggateway.yml multiLoginPolicy)", c.Share.MultiLogin.Policy, 2},
		{"mongo.address", c.Mongo.Address, []string{"mongo37.internal:27017"}},
		{"mongo.password", c.Mongo.Password, "m0ngo-37"},
		{"redis.address (IMENV_REDIS_ADDRESS)", c.Redis.Address, []string{"redis37.internal:6379"}},
		{"redis.password (IMENV_REDIS_PASSWORD)", c.Redis.Password, "r3dis-37"},
		{"kafka.address (IMENV_KAFKA_ADDRESS)", c.Kafka.Address, []string{"kafka37a:9092", "kafka37b:9092"}},
		{"minio.externalAddress", c.Minio.ExternalAddress, "https://s3.example.com"},
		{"api.ports", c.API.Api.Ports, []int{10402}},
		{"discovery.enable (share.yml env)", c.Discovery.Enable, "zookeeper"},
		{"discovery.zooKeeper.address (zookeeper.yml)", c.Discovery.ZooKeeper.Address, []string{"zk37.internal:2181"}},
		{"rpc-user ports (3.7 default 10110: 3.8.3's kept)", c.User.RPC.Ports, def.User.RPC.Ports},
		{"msgtransfer prometheus ports (3.7 default: 3.8.3's kept)", c.MsgTransfer.Prometheus.Ports, def.MsgTransfer.Prometheus.Ports},
	})
	secretsOnlyInEnv(t, dir, "s3cret-37", "m0ngo-37", "r3dis-37")
	unplaced(t, p, "redis.yml:4 enablePipeline", "false", "no enablePipeline")
	unplaced(t, p, "IMENV_MONGODB_URIS", "typo-ignored", "matches no key")
	unplaced(t, p, "DATA_DIR", "./", "docker-compose")
}

func TestImportEtcdAndRefusals(t *testing.T) {
	t.Parallel()
	_, c, _, _ := imported(t, "testdata/3.4.0/config", Options{Etcd: []string{"127.0.0.1:2379"}})
	check(t, []want{
		{"discovery.enable", c.Discovery.Enable, "etcd"},
		{"discovery.etcd.address", c.Discovery.Etcd.Address, []string{"127.0.0.1:2379"}},
		{"discovery.zooKeeper.address kept", c.Discovery.ZooKeeper.Address, []string{"172.28.0.1:12181"}},
	})
	p, err := Read("testdata/3.4.0/config", Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "share.yml"), []byte("secret: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(dir, filepath.Join(dir, "env"), "3.8.3", false); err == nil || !strings.Contains(err.Error(), "already holds OpenIM config files") {
		t.Errorf("write into a used dir: %v", err)
	}
	backup, err := p.Write(dir, filepath.Join(t.TempDir(), "env"), "3.8.3", true)
	if err != nil || backup == "" {
		t.Fatalf("forced write: %q %v", backup, err)
	}
	if b, err := os.ReadFile(filepath.Join(backup, "share.yml")); err != nil || string(b) != "secret: x\n" {
		t.Errorf("the old files were not kept in %s: %v", backup, err)
	}
	wide := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(wide, []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := MergeEnvFile(wide, map[string]string{"B": "2"}, "t"); err == nil {
		t.Error("an env file readable by others was accepted")
	}
	if _, err := Read(openimconf383(t), Options{}); err == nil || !strings.Contains(err.Error(), "already an OpenIM 3.8 config dir") {
		t.Errorf("a 3.8 dir: %v", err)
	}
}

func openimconf383(t *testing.T) string {
	dir := t.TempDir()
	if _, err := openimconf.WriteDefaults(dir, "3.8.3", false); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMergeEnvFileKeepsLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "openim.env")
	if err := os.WriteFile(path, []byte("# mine\nKEEP=1\nIMENV_SHARE_SECRET=old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := MergeEnvFile(path, map[string]string{"IMENV_SHARE_SECRET": `a"b$c`, "IMENV_REDIS_PASSWORD": "it's"}, "why"); err != nil {
		t.Fatal(err)
	}
	env, err := config.ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if env["KEEP"] != "1" || env["IMENV_SHARE_SECRET"] != `a"b$c` || env["IMENV_REDIS_PASSWORD"] != "it's" {
		t.Errorf("env: %v", env)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode changed to %04o", st.Mode().Perm())
	}
}

// TestImportMongoWithoutAuth: a 3.4 MongoDB without credentials becomes a
// uri, the only way OpenIM 3.8.3 connects without authentication.
func TestImportMongoWithoutAuth(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/3.4.0/config/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "  username: imuser\n  password: m0ngo-pass", "  username: ''\n  password: ''", 1)
	if s == string(b) {
		t.Fatal("edit did not apply")
	}
	dir := filepath.Join(t.TempDir(), "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	_, c, _, _ := imported(t, filepath.Join(dir, "config.yaml"), Options{})
	check(t, []want{
		{"mongo.uri", c.Mongo.URI, "mongodb://mongo1.internal:27017,mongo2.internal:27017/openIM_v3?maxPoolSize=100"},
		{"mongo.database", c.Mongo.Database, "openIM_v3"},
	})
}
