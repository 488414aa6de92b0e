package openimconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/testenv"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

var pristine struct {
	once sync.Once
	dir  string
	err  error
}

// openim383 returns the config dir of OpenIM 3.8.3's module (the files
// OpenIM ships), found with `go mod download` in build/openim.
func openim383(t *testing.T) string {
	t.Helper()
	pristine.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		mod := filepath.Join(filepath.Dir(file), "..", "..", "build", "openim")
		cmd := exec.Command("go", "mod", "download", "-json", "github.com/openimsdk/open-im-server/v3@v3.8.3")
		cmd.Dir = mod
		out, err := cmd.Output()
		if err != nil {
			pristine.err = err
			return
		}
		var info struct{ Dir string }
		if err := json.Unmarshal(out, &info); err != nil {
			pristine.err = err
			return
		}
		pristine.dir = filepath.Join(info.Dir, "config")
	})
	if pristine.err != nil {
		testenv.Missing(t, fmt.Sprintf("OpenIM 3.8.3's config (go mod download in build/openim): %v", pristine.err))
	}
	return pristine.dir
}

// copyPristine copies OpenIM 3.8.3's service config files into a temp dir.
func copyPristine(t *testing.T) string {
	t.Helper()
	src := openim383(t)
	dst := t.TempDir()
	for _, s := range Files() {
		b, err := os.ReadFile(filepath.Join(src, s.Name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, s.Name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func edit(t *testing.T, dir, name, old, new string) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, dir string, env map[string]string) *Dir {
	t.Helper()
	d, err := Load(dir, Options{Env: env, LookupEnv: NoEnviron})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func msgs(es config.Errors) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

func TestPristine(t *testing.T) {
	t.Parallel()
	d := load(t, openim383(t), nil)
	if len(d.Missing) != 0 {
		t.Fatalf("missing %v", d.Missing)
	}
	r := Check(d, CheckOptions{})
	if !r.OK() {
		t.Fatalf("OpenIM's own files have errors:\n%s", msgs(r.Errors))
	}
	// The three keys OpenIM 3.8.3 ships but does not read.
	want := []string{"notification.yml", "openim-rpc-third.yml", "redis.yml"}
	if len(r.Warnings) != len(want) {
		t.Fatalf("warnings:\n%s", msgs(r.Warnings))
	}
	for i, w := range r.Warnings {
		var ce *config.Error
		if !errors.As(w, &ce) || filepath.Base(ce.File) != want[i] || ce.Line == 0 || !strings.Contains(ce.Msg, "ignored by OpenIM") {
			t.Errorf("warning %d: %v", i, w)
		}
	}
	c, err := d.Typed()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.API.Api.Ports, []int{10002}) || c.Mongo.Address[0] != "localhost:37017" ||
		c.Share.Secret != "openIM123" || len(c.Push.RPC.Ports) != 16 || c.Discovery.Enable != "etcd" ||
		c.Redis.DB != 0 || c.Log.StorageLocation != "../../../../logs/" || !c.Push.IOSPush.BadgeCount {
		t.Errorf("typed view: %+v %+v %+v", c.API, c.Mongo, c.Share)
	}
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	dir := copyPristine(t)
	edit(t, dir, "mongodb.yml", "uri: \n", "")
	env := map[string]string{
		"IMENV_MONGODB_ADDRESS":           "db1:27017,db2:27017",
		"IMENV_MONGODB_URI":               "mongodb://ignored", // not in the file: no effect
		"IMENV_REDIS_PASSWORD":            "",                  // empty: unset
		"IMENV_OPENIM_API_API_PORTS":      "10102",             // one-element list
		"IMENV_OPENIM_PUSH_PROMETHEUS":    "x",                 // shadows prometheus.*
		"IMENV_SHARE_MULTILOGIN_POLICY":   "3",                 // nested int
		"IMENV_LOG_ISSTDOUT":              "true",              // bool
		"IMENV_KAFKA_TLS_ENABLETLS":       "1",                 // weak bool
		"IMENV_NOSUCHFILE_X":              "1",                 // no file
		"IMENV_OPENIM_RPC_USER_RPC_PORTS": "10320,10321",
	}
	d := load(t, dir, env)
	c, err := d.Typed()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"mongo address", c.Mongo.Address, []string{"db1:27017", "db2:27017"}},
		{"mongo uri", c.Mongo.URI, ""},
		{"redis password", c.Redis.Password, "openIM123"},
		{"api ports", c.API.Api.Ports, []int{10102}},
		{"push prometheus", c.Push.Prometheus.Enable, false},
		{"push prometheus ports", len(c.Push.Prometheus.Ports), 0},
		{"push rpc ports kept", len(c.Push.RPC.Ports), 16},
		{"multiLogin", c.Share.MultiLogin.Policy, 3},
		{"isStdout", c.Log.IsStdout, true},
		{"kafka tls", c.Kafka.TLS.EnableTLS, true},
		{"user ports", c.User.RPC.Ports, []int{10320, 10321}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	r := Check(d, CheckOptions{})
	w := msgs(r.Warnings)
	for _, s := range []string{
		"IMENV_MONGODB_URI: (env file) matches no key of mongodb.yml",
		"IMENV_REDIS_PASSWORD: (env file) is empty",
		"IMENV_NOSUCHFILE_X: (env file) names no OpenIM",
		"prometheus.ports: IMENV_OPENIM_PUSH_PROMETHEUS (env file) names a parent of this key",
	} {
		if !strings.Contains(w, s) {
			t.Errorf("no warning %q in:\n%s", s, w)
		}
	}
	if strings.Contains(w+msgs(r.Errors), "db1:27017") {
		t.Error("a value from the env file appears in a message")
	}
	// The uri key is gone from the file: that is a missing key.
	if !strings.Contains(msgs(r.Errors), "mongodb.yml:3: uri: missing") {
		t.Errorf("errors:\n%s", msgs(r.Errors))
	}
}

func TestProblemsHaveFileAndLine(t *testing.T) {
	t.Parallel()
	dir := copyPristine(t)
	edit(t, dir, "share.yml", "secret: openIM123", "secert: openIM123")
	edit(t, dir, "redis.yml", "address: [ localhost:16379 ]", "address: []")
	edit(t, dir, "openim-api.yml", "ports: [ 10002 ]", "ports: [ http ]")
	edit(t, dir, "kafka.yml", "\ntls:", "\ntls:\n  extra: 1\ntlss:")
	edit(t, dir, "log.yml", "rotationTime: 24", "rotationTime:")
	edit(t, dir, "mongodb.yml", "password: openIM123", "password: ''")
	if err := os.Remove(filepath.Join(dir, "webhooks.yml")); err != nil {
		t.Fatal(err)
	}
	r := Check(load(t, dir, nil), CheckOptions{})
	all := msgs(r.Errors) + msgs(r.Warnings)
	for _, s := range []string{
		dir + "/share.yml:1: secert: unknown to OpenIM 3.8.3",
		dir + "/share.yml:1: secret: missing: OpenIM 3.8.3 reads this key (fix: add it (OpenIM 3.8.3 ships `secret: openIM123`)",
		dir + "/redis.yml:1: address: no Redis address",
		dir + "/openim-api.yml:5: api.ports: OpenIM cannot read this value",
		dir + "/kafka.yml:28: tls.caCrt: missing: OpenIM 3.8.3 reads this key (fix: add it (OpenIM 3.8.3 ships `caCrt: ''`)",
		dir + "/kafka.yml:29: tls.extra: unknown to OpenIM 3.8.3",
		dir + "/kafka.yml:30: tlss: unknown",
		dir + "/mongodb.yml:10: uri: no uri and no username/password pair",
		dir + "/webhooks.yml: missing: OpenIM 3.8.3's services fail to start without it (fix: write OpenIM's shipped one with `openim-supervisor config defaults`",
	} {
		if !strings.Contains(all, s) {
			t.Errorf("no %q in:\n%s", s, all)
		}
	}
}

func TestLoadRefusesBadDirs(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	notYAML := t.TempDir()
	if err := os.WriteFile(filepath.Join(notYAML, "share.yml"), []byte("secret: a\n  bad: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{"", "paths.openimConfigDir: is empty"},
		{filepath.Join(empty, "nope"), "nope: OpenIM config dir: no such file or directory (fix: create it"},
		{empty, "holds none of OpenIM 3.8.3's config files"},
		{notYAML, "share.yml:2: not valid YAML"},
	} {
		_, err := Load(tc.dir, Options{LookupEnv: NoEnviron})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want %q", tc.dir, err, tc.want)
		}
	}
}

func TestCheckPrograms(t *testing.T) {
	t.Parallel()
	dir := copyPristine(t)
	env := map[string]string{"IMENV_OPENIM_API_API_PORTS": "10102"}
	d := load(t, dir, env)
	progs := []Program{
		{Name: "openim-api", Instances: 1, Ports: []int{10002}, File: "config.yaml", Line: 10, PortsLine: 11},
		{Name: "openim-push", Instances: 17, File: "config.yaml", Line: 20, InstancesLine: 21},
		{Name: "openim-msgtransfer", Instances: 8, File: "config.yaml", Line: 30},
		{Name: "openim-msggateway", Instances: 1, Ports: []int{10001}, File: "config.yaml", Line: 40,
			Env: map[string]string{"IMENV_OPENIM_MSGGATEWAY_LONGCONNSVR_PORTS": "10003"}},
		{Name: "openim-rpc-user", Instances: 1, File: "config.yaml", Line: 50},
		{Name: "my-tool", Custom: true, Instances: 100},
		// gRPC readiness watches the RPC port: 10140 is right, the websocket's 10001 is not.
		{Name: "openim-msggateway", Instances: 1, Ports: []int{10140}, GRPC: true, File: "other.yaml", Line: 60},
		{Name: "openim-msggateway", Instances: 1, Ports: []int{10001}, GRPC: true, File: "grpc.yaml", Line: 70},
	}
	got := msgs(CheckPrograms(d, progs))
	for _, s := range []string{
		"config.yaml:11: openim-api.ports: element 0 is 10002, but OpenIM's openim-api.yml api.ports = IMENV_OPENIM_API_API_PORTS (env file) gives instance 0 port 10102",
		"config.yaml:21: openim-push.instances: is 17, but " + dir + "/openim-push.yml:7 rpc.ports lists 16 port(s)",
		"instance 16 fails with \"index out of range\" (fix: lower instances to 16, or add ports to rpc.ports in openim-push.yml)",
		"config.yaml:40: openim-msggateway.ports: element 0 is 10001, but OpenIM's openim-msggateway.yml longConnSvr.ports = IMENV_OPENIM_MSGGATEWAY_LONGCONNSVR_PORTS (env file)",
		"grpc.yaml:70: openim-msggateway.ports: element 0 is 10001, but OpenIM's " + dir + "/openim-msggateway.yml:5 rpc.ports gives instance 0 port 10140",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("no %q in:\n%s", s, got)
		}
	}
	if strings.Contains(got, "other.yaml") {
		t.Errorf("gRPC readiness on rpc.ports refused:\n%s", got)
	}
	// The shipped set (instances as in OpenIM's start-config.yml) is clean.
	d = load(t, dir, nil)
	progs = progs[:0]
	for _, s := range Services() {
		n := 1
		if s.Name == "openim-push" || s.Name == "openim-msgtransfer" {
			n = 8
		}
		progs = append(progs, Program{Name: s.Name, Instances: n, File: "config.yaml"})
	}
	if errs := CheckPrograms(d, progs); len(errs) > 0 {
		t.Errorf("the shipped set:\n%s", msgs(errs))
	}
	// A port used twice.
	edit(t, dir, "openim-rpc-user.yml", "ports: [ 10320 ]", "ports: [ 10002 ]")
	if got := msgs(CheckPrograms(load(t, dir, nil), progs)); !strings.Contains(got, "port 10002 of openim-rpc-user:0 is also port of openim-api:0") {
		t.Errorf("duplicate port not found:\n%s", got)
	}
}

func TestStamp(t *testing.T) {
	t.Parallel()
	dir := copyPristine(t)
	if st, err := CheckVersion(dir, "3.8.3", ""); err != nil || st.Stamped || st.Version != "3.8" {
		t.Fatalf("unstamped 3.8 dir: %+v %v", st, err)
	}
	if err := WriteStamp(dir, "3.8.3"); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckVersion(dir, "v3.8.3-patch.16", ""); err != nil {
		t.Fatalf("same core version: %v", err)
	}
	_, err := CheckVersion(dir, "3.8.4", "/etc/openim/config.yaml")
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Newer || !strings.Contains(err.Error(), dir+"/openim-version:4: the OpenIM config dir is written for OpenIM 3.8.3; this openim-supervisor runs OpenIM 3.8.4 (fix: run `openim-supervisor config upgrade --config /etc/openim/config.yaml`") {
		t.Fatalf("older stamp: %v", err)
	}
	if _, err := CheckVersion(dir, "3.8.2", ""); !errors.As(err, &ve) || !ve.Newer {
		t.Fatalf("newer stamp: %v", err)
	}
	old := t.TempDir()
	if err := os.WriteFile(filepath.Join(old, "zookeeper.yml"), []byte("schema: openim\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckVersion(old, "3.8.3", ""); err == nil || !strings.Contains(err.Error(), "OpenIM 3.7 (zookeeper.yml") ||
		!strings.Contains(err.Error(), "openim-supervisor config import --from "+old) {
		t.Fatalf("3.7 dir: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, StampFile), []byte("# c\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Detect(dir); err == nil || !strings.Contains(err.Error(), "openim-version:2: \"three\" is not a version") {
		t.Fatalf("bad stamp: %v", err)
	}
}

// The servers check-component waits for, read from OpenIM 3.8.3's own
// files, with the env file's overrides applied.
func TestComponents(t *testing.T) {
	t.Parallel()
	dir := copyPristine(t)
	got := func(d *Dir) string {
		var b []string
		for _, c := range d.Components() {
			b = append(b, c.Name+"="+c.Addr)
		}
		return strings.Join(b, " ")
	}
	if s := got(load(t, dir, nil)); s != "MongoDB=localhost:37017 Redis=localhost:16379 Kafka=localhost:19094 etcd=localhost:12379 MinIO=localhost:10005" {
		t.Errorf("pristine 3.8.3: %s", s)
	}
	env := map[string]string{
		"IMENV_REDIS_ADDRESS":    "10.0.0.5:7000",
		"IMENV_MONGODB_URI":      "mongodb://openIM:secret@m1:27018,m2/openim_v3?authSource=admin",
		"IMENV_DISCOVERY_ENABLE": "k8s",
	}
	edit(t, dir, "openim-rpc-third.yml", "enable: minio", "enable: cos")
	if s := got(load(t, dir, env)); s != "MongoDB=m1:27018 MongoDB=m2:27017 Redis=10.0.0.5:7000 Kafka=localhost:19094" {
		t.Errorf("with overrides: %s", s)
	}
}
