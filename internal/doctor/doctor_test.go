package doctor

// Each check's failure is produced for real: a Redis that was started and
// then killed, MongoDB-protocol and Kafka-protocol servers that refuse or
// lack what OpenIM asks for, a port a real listener holds, a process with a
// real low ulimit. The servers come from scripts/test-services.sh
// (OPENIM_TEST_*_ADDR / _URI); without them these tests skip, or fail with
// OPENIM_TEST_STRICT=1 (CI).

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/testenv"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

func needEnv(t *testing.T, name string) string {
	t.Helper()
	return testenv.Var(t, name)
}

// openimDir writes OpenIM yml files (name -> body) and loads them the way
// the supervisor does, with env as the env file.
func openimDir(t *testing.T, files map[string]string, env map[string]string) *Env {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := openimconf.Load(dir, openimconf.Options{Env: env, LookupEnv: openimconf.NoEnviron})
	if err != nil {
		t.Fatal(err)
	}
	typed, err := d.Typed()
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Info: buildinfo.Info{Version: "test", OpenIMVersion: "3.8.3"}, OpenIM: d, Typed: typed, Timeout: 3 * time.Second}
}

// only runs one check and returns its findings, failing the test when a
// finding shows one of the secrets.
func only(t *testing.T, c Check, e *Env, secrets ...string) []Finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fs := Run(ctx, e, []Check{c}).Findings
	b, _ := json.Marshal(fs)
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("a finding shows the secret %q: %s", s, b)
		}
	}
	return fs
}

func expect(t *testing.T, fs []Finding, status Status, words ...string) {
	t.Helper()
	for _, f := range fs {
		if f.Status != status {
			continue
		}
		all := true
		for _, w := range words {
			if !strings.Contains(f.Subject+" "+f.Cause+" "+f.Fix, w) {
				all = false
			}
		}
		if all {
			return
		}
	}
	b, _ := json.MarshalIndent(fs, "", " ")
	t.Errorf("no %s finding with %q in:\n%s", status, words, b)
}

func TestRedis(t *testing.T) {
	addr := needEnv(t, "OPENIM_TEST_REDIS_ADDR")
	e := openimDir(t, map[string]string{"redis.yml": "address: [" + addr + "]\nusername: ''\npassword: ''\nclusterMode: false\nstorage: 0\nmaxRetry: 1\npoolSize: 2\n"}, nil)
	expect(t, only(t, redisCheck{}, e), OK, "answers")

	// A real redis-server with a password: the right one passes, a wrong
	// one is refused by the server; then it is killed: Redis down.
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		bin = "/usr/bin/redis-server"
	}
	port := freePort(t)
	srv := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--requirepass", "right-pass-42", "--dir", t.TempDir())
	if err := srv.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	own := "127.0.0.1:" + strconv.Itoa(port)
	waitPort(t, own)
	yml := map[string]string{"redis.yml": "address: [" + own + "]\npassword: ''\n"}
	e = openimDir(t, yml, map[string]string{"IMENV_REDIS_PASSWORD": "right-pass-42"})
	expect(t, only(t, redisCheck{}, e, "right-pass-42"), OK, "answers")
	e = openimDir(t, yml, map[string]string{"IMENV_REDIS_PASSWORD": "wrong-pass-42"})
	expect(t, only(t, redisCheck{}, e, "wrong-pass-42"), Fail, "refuses the credentials", "IMENV_REDIS_PASSWORD")
	e = openimDir(t, yml, nil)
	expect(t, only(t, redisCheck{}, e), Fail, "refuses the credentials") // NOAUTH
	_ = srv.Process.Kill()
	_ = srv.Wait()
	e = openimDir(t, yml, map[string]string{"IMENV_REDIS_PASSWORD": "right-pass-42"})
	expect(t, only(t, redisCheck{}, e), Fail, "Redis "+own, "does not answer", "connection refused", "start Redis")
}

func TestMongo(t *testing.T) {
	raw := needEnv(t, "OPENIM_TEST_MONGO_URI")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	e := openimDir(t, map[string]string{"mongodb.yml": "uri: " + raw + "\naddress: []\ndatabase: doctor_test\nusername: ''\npassword: ''\nauthSource: ''\nmaxPoolSize: 2\nmaxRetry: 1\n"}, nil)
	expect(t, only(t, mongoCheck{}, e), OK, "credentials are accepted")

	// Credentials the server refuses. FerretDB v1 (the MongoDB-wire server
	// here) has no users and refuses every SCRAM login with its real
	// authentication error: this proves the classification of a real
	// refusal, not that right credentials pass on a server with auth.
	e = openimDir(t, map[string]string{"mongodb.yml": "uri: ''\naddress: [" + host + "]\ndatabase: openim_v3\nusername: openIM\npassword: ''\nauthSource: openim_v3\n"},
		map[string]string{"IMENV_MONGODB_PASSWORD": "not-the-password-7"})
	fs := only(t, mongoCheck{}, e, "not-the-password-7")
	expect(t, fs, Fail, "refuses the credentials", "IMENV_MONGODB_PASSWORD")

	// Nothing listening.
	e = openimDir(t, map[string]string{"mongodb.yml": "uri: ''\naddress: [127.0.0.1:" + strconv.Itoa(freePort(t)) + "]\ndatabase: openim_v3\nusername: ''\npassword: ''\n"}, nil)
	expect(t, only(t, mongoCheck{}, e), Fail, "does not answer", "start MongoDB")
}

func TestKafkaTopics(t *testing.T) {
	addr := needEnv(t, "OPENIM_TEST_KAFKA_ADDR")
	kafka := func(push string) string {
		return "address: [" + addr + "]\ntoRedisTopic: toRedis\ntoMongoTopic: toMongo\ntoPushTopic: " + push +
			"\ntoOfflinePushTopic: toOfflinePush\n"
	}
	expect(t, only(t, kafkaCheck{}, openimDir(t, map[string]string{"kafka.yml": kafka("toPush")}, nil)), OK, "toRedis, toMongo, toPush, toOfflinePush")
	missing := fmt.Sprintf("doctor-missing-%d", time.Now().UnixNano())
	fs := only(t, kafkaCheck{}, openimDir(t, map[string]string{"kafka.yml": kafka(missing)}, nil))
	expect(t, fs, Fail, "topic "+missing+" (kafka.yml toPushTopic) does not exist", "--create --topic "+missing)
	// Asking must not have created it.
	fs = only(t, kafkaCheck{}, openimDir(t, map[string]string{"kafka.yml": kafka(missing)}, nil))
	expect(t, fs, Fail, missing)
	e := openimDir(t, map[string]string{"kafka.yml": "address: [127.0.0.1:" + strconv.Itoa(freePort(t)) + "]\ntoRedisTopic: toRedis\n"}, nil)
	expect(t, only(t, kafkaCheck{}, e), Fail, "does not answer", "start Kafka")
}

// TestKafkaTLS: a broker that speaks only TLS (client certificates) and
// SASL PLAIN, as kafka.yml's tls section and login describe it. Right
// settings pass; an untrusted CA, a wrong password and an unreadable caCrt
// each fail with their own cause and fix, and never show the password.
func TestKafkaTLS(t *testing.T) {
	sk := testenv.StartSecureKafka(t)
	yml := func(ca, pass string) string {
		return "address: [" + sk.Addr + "]\nusername: " + sk.User + "\npassword: " + pass +
			"\ntoRedisTopic: toRedis\ntoMongoTopic: toMongo\ntoPushTopic: toPush\ntoOfflinePushTopic: toOfflinePush\n" +
			"tls:\n  enableTLS: true\n  caCrt: " + ca + "\n  clientCrt: " + sk.ClientCert + "\n  clientKey: " + sk.ClientKey + "\n"
	}
	expect(t, only(t, kafkaCheck{}, openimDir(t, map[string]string{"kafka.yml": yml(sk.CA, sk.Password)}, nil), sk.Password),
		OK, "(TLS)", "toRedis, toMongo, toPush, toOfflinePush")
	expect(t, only(t, kafkaCheck{}, openimDir(t, map[string]string{"kafka.yml": yml(sk.OtherCA, sk.Password)}, nil), sk.Password),
		Fail, "TLS handshake fails", "caCrt must sign")
	// The test broker (kfake) hangs up on a wrong login; Apache Kafka
	// answers SASL_AUTHENTICATION_FAILED first ("refuses the credentials").
	wrong := "not-the-password-8"
	expect(t, only(t, kafkaCheck{}, openimDir(t, map[string]string{"kafka.yml": yml(sk.CA, wrong)}, nil), wrong, sk.Password),
		Fail, "closes the connection at login", "IMENV_KAFKA_PASSWORD")
	plain := strings.Replace(yml(sk.CA, sk.Password), "enableTLS: true", "enableTLS: false", 1)
	expect(t, only(t, kafkaCheck{}, openimDir(t, map[string]string{"kafka.yml": plain}, nil), sk.Password),
		Fail, "closes the connection at login", "tls.enableTLS: true")
	expect(t, only(t, kafkaCheck{}, openimDir(t, map[string]string{"kafka.yml": yml(filepath.Join(t.TempDir(), "none.pem"), sk.Password)}, nil)),
		Fail, "caCrt", "readable PEM")
}

func TestEtcd(t *testing.T) {
	addr := needEnv(t, "OPENIM_TEST_ETCD_ADDR")
	disc := func(a string) string {
		return "enable: etcd\netcd:\n  rootDirectory: openim\n  address: [" + a + "]\n  username: ''\n  password: ''\n"
	}
	expect(t, only(t, etcdCheck{}, openimDir(t, map[string]string{"discovery.yml": disc(addr)}, nil)), OK, "answers (etcd ")
	down := "127.0.0.1:" + strconv.Itoa(freePort(t))
	expect(t, only(t, etcdCheck{}, openimDir(t, map[string]string{"discovery.yml": disc(down)}, nil)), Fail, "no etcd endpoint answers", "start etcd")
}

func TestDefaultSecretAndExternalAddress(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"share.yml":            "secret: openIM123\nimAdminUserID: [imAdmin]\n",
		"minio.yml":            "bucket: openim\nexternalAddress: http://external_ip:10005\ninternalAddress: localhost:10005\n",
		"openim-rpc-third.yml": "object:\n  enable: minio\n",
	}
	e := openimDir(t, files, nil)
	expect(t, only(t, defaultSecret{}, e), Fail, "share.yml secret", "openIM123", "IMENV_SHARE_SECRET")
	expect(t, only(t, externalAddress{}, e), Fail, "placeholder", "IMENV_MINIO_EXTERNALADDRESS")
	e = openimDir(t, files, map[string]string{"IMENV_MINIO_EXTERNALADDRESS": "http://127.0.0.1:10005"})
	expect(t, only(t, externalAddress{}, e), Fail, "points at 127.0.0.1")
	// The env file's overrides are what OpenIM uses.
	e = openimDir(t, files, map[string]string{"IMENV_SHARE_SECRET": "a-long-random-secret", "IMENV_MINIO_EXTERNALADDRESS": "https://im.example.com:10005"})
	expect(t, only(t, defaultSecret{}, e, "a-long-random-secret"), OK)
	expect(t, only(t, externalAddress{}, e), OK, "im.example.com")
}

// supervisorCfg is a supervisor config of the named OpenIM processes.
func supervisorCfg(t *testing.T, bin string, names ...string) *config.Config {
	c := config.Default()
	c.Source = filepath.Join(t.TempDir(), "config.yaml")
	c.Paths.BinDir = bin
	c.Paths.StateDir = t.TempDir()
	for _, n := range names {
		c.Processes = append(c.Processes, config.Process{Name: n, Instances: 1})
	}
	return c
}

func TestPortTakenByAnotherProgram(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	free := freePort(t)
	e := openimDir(t, map[string]string{"openim-api.yml": fmt.Sprintf("api:\n  listenIP: 0.0.0.0\n  ports: [%d]\nprometheus:\n  enable: true\n  ports: [%d]\n", port, free)}, nil)
	e.Config = supervisorCfg(t, t.TempDir(), "openim-api")
	fs := only(t, ports{}, e)
	expect(t, fs, Fail, "port "+strconv.Itoa(port), "openim-api:0 needs it", fmt.Sprintf("pid %d", os.Getpid()))
	// Held by the instance itself (a running supervisor's): fine.
	e.Status = &control.StatusReply{Instances: []supervisor.InstanceStatus{{Name: "openim-api", Index: 0, PID: os.Getpid(), State: supervisor.StateRunning}}}
	expect(t, only(t, ports{}, e), OK, "2 ports")
}

func TestOpenFilesOfARunningInstance(t *testing.T) {
	t.Parallel()
	// A real process with a real low limit, as a supervisor started from a
	// shell with the default ulimit -n 1024 passes to OpenIM.
	cmd := exec.Command("sh", "-c", "ulimit -n 1024 && exec sleep 30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid))
		if strings.TrimSpace(string(b)) == "sleep" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	e := &Env{Status: &control.StatusReply{Instances: []supervisor.InstanceStatus{{Name: "openim-msggateway", PID: cmd.Process.Pid, State: supervisor.StateRunning}}}}
	expect(t, only(t, openFiles{}, e), Fail, "the limit is 1024", "LimitNOFILE")
}

func TestBinaryVersion(t *testing.T) {
	t.Parallel()
	bin := testenv.Var(t, "OPENIM_TEST_OPENIM_BIN") // test-services.sh builds the real OpenIM 3.8.3
	e := &Env{Info: buildinfo.Info{OpenIMVersion: "3.8.3"}, Config: supervisorCfg(t, bin, "openim-api", "openim-push")}
	expect(t, only(t, versions{}, e), OK, "2 OpenIM binaries are 3.8.3")
	e.Info.OpenIMVersion = "3.8.4"
	expect(t, only(t, versions{}, e), Fail, "openim-api v3.8.3", "another OpenIM version than 3.8.4")
	// Data recorded at another version.
	dir := filepath.Join(e.Config.Paths.StateDir, "upgrade")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"data_version":"3.7.1"}`), 0o640); err != nil {
		t.Fatal(err)
	}
	expect(t, only(t, versions{}, e), Fail, "the data is at OpenIM 3.7.1", "openim-supervisor upgrade")
}

func TestClockSkew(t *testing.T) {
	addr := needEnv(t, "OPENIM_TEST_REDIS_ADDR")
	e := openimDir(t, map[string]string{"redis.yml": "address: [" + addr + "]\n"}, nil)
	only(t, redisCheck{}, e)
	expect(t, only(t, clock{}, e), OK, "clock vs Redis")
	// Our clock one minute ahead of Redis's real one.
	e = openimDir(t, map[string]string{"redis.yml": "address: [" + addr + "]\n"}, nil)
	e.Now = func() time.Time { return time.Now().Add(time.Minute) }
	only(t, redisCheck{}, e)
	expect(t, only(t, clock{}, e), Fail, "clock vs Redis", "timedatectl")
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not open", addr)
}
