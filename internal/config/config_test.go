package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// openimNames are the binaries the example config expects in binDir.
var openimNames = []string{
	"openim-api", "openim-rpc-auth", "openim-rpc-user", "openim-rpc-friend", "openim-rpc-group",
	"openim-rpc-conversation", "openim-rpc-third", "openim-rpc-msg", "openim-push", "openim-msgtransfer",
	"openim-msggateway", "openim-crontask", "check-free-memory", "check-component", "seq",
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// tree makes dir/bin with stub executables for names, and dir/conf.
func tree(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		writeFile(t, filepath.Join(dir, "bin", n), "#!/bin/sh\nexit 0\n", 0o755)
	}
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// load writes body as dir/config.yaml and loads it with the given environment.
func load(t *testing.T, dir, body string, env map[string]string) (*Config, string, error) {
	t.Helper()
	file := writeFile(t, filepath.Join(dir, "config.yaml"), body, 0o644)
	cfg, err := LoadWith(file, Options{LookupEnv: envOf(env)})
	return cfg, file, err
}

func examplePathsIn(dir string) ExamplePaths {
	return ExamplePaths{BinDir: filepath.Join(dir, "bin"), OpenIMConfigDir: filepath.Join(dir, "conf"),
		LogDir: filepath.Join(dir, "log"), RuntimeDir: filepath.Join(dir, "run"), StateDir: filepath.Join(dir, "state"),
		EnvFile: "openim.env"}
}

func TestExampleLoadsAsOpenIM383(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree(t, dir, openimNames...)
	writeFile(t, filepath.Join(dir, "openim.env"), string(ExampleEnv), 0o600)
	cfg, _, err := load(t, dir, string(Example(examplePathsIn(dir))), nil)
	if err != nil {
		t.Fatalf("example does not load:\n%v", err)
	}

	// The example's defaults section says what the built-in defaults are
	// (its env is the example's own: OpenIM's log records to stdout).
	exDefaults := cfg.Defaults
	exDefaults.Env = nil
	if def := Default(); !reflect.DeepEqual(exDefaults, def.Defaults) || cfg.Log != def.Log || cfg.Metrics != def.Metrics {
		t.Errorf("example.yaml and Default() disagree:\nexample %+v %+v\ndefault %+v %+v", cfg.Defaults, cfg.Log, def.Defaults, def.Log)
	}

	counts := map[string]int{}
	var order []string
	for _, in := range cfg.Instances() {
		if counts[in.Process] == 0 {
			order = append(order, in.Process)
		}
		counts[in.Process]++
	}
	want := map[string]int{"openim-push": 8, "openim-msgtransfer": 8}
	for _, n := range openimNames[:12] {
		if w := max(want[n], 1); counts[n] != w {
			t.Errorf("%s: %d instances, want %d", n, counts[n], w)
		}
	}
	wantOrder := []string{"openim-rpc-auth", "openim-rpc-user", "openim-rpc-friend", "openim-rpc-group",
		"openim-rpc-conversation", "openim-rpc-third", "openim-rpc-msg", "openim-api", "openim-push",
		"openim-msggateway", "openim-msgtransfer", "openim-crontask"}
	if !reflect.DeepEqual(order, wantOrder) {
		t.Errorf("start order %v, want %v", order, wantOrder)
	}
	if v := cfg.Env; len(v) != 0 {
		t.Errorf("example env file sets %v", v)
	}
	if env := cfg.Defaults.Env; env["IMENV_LOG_ISSTDOUT"] != "true" || env["IMENV_LOG_STORAGELOCATION"] != filepath.Join(dir, "log")+"/openim/" {
		t.Errorf("defaults.env %v: want OpenIM's records on stdout, its own files under the log dir", env)
	}

	// Instances in order: 7 RPC services, the API, push x8, the gateway,
	// msgtransfer x8, crontask.
	insts := cfg.Instances()
	push7 := insts[7+1+7]
	conf := filepath.Join(dir, "conf")
	if push7.ID() != "openim-push:7" || push7.Path != filepath.Join(dir, "bin", "openim-push") ||
		!reflect.DeepEqual(push7.Args, []string{"-i", "7", "-c", conf}) {
		t.Errorf("openim-push:7 resolved to %s %s %v", push7.ID(), push7.Path, push7.Args)
	}
	if push7.Ready.GRPC != "127.0.0.1:10177" || !slices.Contains(push7.Env, "IMENV_LOG_ISSTDOUT=true") {
		t.Errorf("openim-push:7 ready %+v env %v", push7.Ready, push7.Env)
	}
	api := insts[7]
	if api.Process != "openim-api" || api.Ready.OpenIMAPI != "http://127.0.0.1:10002" || api.Ready.After != 0 {
		t.Errorf("openim-api ready = %+v", api.Ready)
	}
	// Barriers after the RPC services, the API, and the gateway; nowhere else.
	var barriers []string
	for _, in := range insts {
		if in.Barrier {
			barriers = append(barriers, in.ID())
		}
	}
	if want := []string{"openim-rpc-msg:0", "openim-api:0", "openim-msggateway:0"}; !reflect.DeepEqual(barriers, want) {
		t.Errorf("barriers after %v, want %v", barriers, want)
	}
	tools := cfg.Tools()
	if len(tools) != 2 || tools[1].Name != "check-component" || !reflect.DeepEqual(tools[1].Args, []string{"-c", conf}) ||
		tools[1].Timeout != DefaultToolTimeout || tools[0].Timeout != DefaultToolTimeout || tools[1].StopTimeout != 15*time.Second {
		t.Errorf("tools = %+v", tools)
	}
	if cfg.Paths.Socket != filepath.Join(dir, "run", "supervisor.sock") {
		t.Errorf("socket = %s", cfg.Paths.Socket)
	}
	if cfg.EnvFile != filepath.Join(dir, "openim.env") {
		t.Errorf("envFile = %s (want it next to the config)", cfg.EnvFile)
	}
}

func TestDefaultOSPathsExampleParses(t *testing.T) {
	t.Parallel()
	// With this OS's default paths (absent here), the example is well-formed.
	if _, err := Parse("/etc/openim/config.yaml", Example(DefaultExamplePaths()), Options{SkipFileChecks: true, LookupEnv: noEnv}); err != nil {
		t.Fatal(err)
	}
}

const head = `version: 2
paths: {binDir: bin, openimConfigDir: conf, logDir: log, runtimeDir: run, stateDir: state}
`

// Each bad input is reported as FILE:LINE: KEY: MESSAGE, and Load fails.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		env        map[string]string // env file content as variables, when set
		want       string            // "LINE: KEY: message part"
	}{
		{"unknown key", head + "processes:\n  - name: openim-api\n    instanses: 2\n",
			nil, "5: processes[0].instanses: unknown key (fix: did you mean instances?"},
		{"unknown top key", head + "proceses: []\n", nil, "3: proceses: unknown key (fix: did you mean processes?"},
		{"wrong type", head + "processes:\n  - name: openim-api\n    instances: two\n",
			nil, `5: processes[0].instances: want a whole number, got "two"`},
		{"wrong kind", head + "processes:\n  name: openim-api\n", nil, "4: processes: want a list, got a mapping"},
		{"bad duration", head + "defaults:\n  stopTimeout: 10\n",
			nil, `4: defaults.stopTimeout: "10" is not a duration`},
		{"negative duration", head + "defaults:\n  backoff: {max: -1s}\n",
			nil, `4: defaults.backoff.max: "-1s" is negative`},
		{"zero instances", head + "processes:\n  - name: openim-api\n    instances: 0\n",
			nil, "5: processes[0].instances: is 0; want 1 to 10000"},
		{"duplicate names", head + "processes:\n  - name: openim-api\n  - name: openim-api\n",
			nil, `5: processes[1].name: "openim-api" is used twice (also processes[0])`},
		{"missing binary", head + "processes:\n  - name: openim-push\n",
			nil, "4: processes[0].name: binary " + filepath.Join("DIR", "bin", "openim-push") + ": no such file or directory"},
		{"missing command", head + "processes:\n  - name: x\n    command: /nonexistent/x\n",
			nil, "5: processes[0].command: binary /nonexistent/x: no such file or directory"},
		{"repeated key", head + "processes:\n  - name: openim-api\n    name: openim-push\n",
			nil, "5: processes[0].name: key repeated (first at line 4)"},
		{"bad signal", head + "processes:\n  - name: openim-api\n    stopSignal: STOP\n",
			nil, `5: processes[0].stopSignal: "STOP" is not a stop signal`},
		{"bad policy", head + "defaults: {restart: sometimes}\n",
			nil, `3: defaults.restart: "sometimes" is not a restart policy`},
		{"bad size", head + "log: {maxSize: 10 furlongs}\n", nil, `3: log.maxSize: "10 furlongs" is not a size`},
		{"too few ports", head + "processes:\n  - name: openim-api\n    instances: 2\n    ports: [10002]\n",
			nil, "6: processes[0].ports: 1 ports for 2 instances"},
		{"port without ports", head + "processes:\n  - name: openim-api\n    ready:\n      tcp: \"127.0.0.1:{port}\"\n",
			nil, "6: processes[0].ready.tcp: {port} is used but the process lists no ports"},
		{"zero stop timeout", head + "processes:\n  - name: openim-api\n    stopTimeout: 0s\n",
			nil, "5: processes[0].stopTimeout: must be more than 0"},
		{"port used twice", head + "processes:\n  - name: openim-api\n    ports: [10002]\n  - name: openim-msggateway\n    ports: [10002]\n",
			nil, "7: processes[1].ports[0]: port 10002 is also given to openim-api:0"},
		{"metrics remote", head + "processes: [{name: openim-api}]\nmetrics: {listen: \":9100\"}\n",
			nil, `4: metrics.listen: ":9100" is reachable from other machines`},
		{"secret in args", "envFile: openim.env\n" + head + "processes:\n  - name: openim-api\n    args: [\"--pw=${IMENV_REDIS_PASSWORD}\"]\n",
			map[string]string{"IMENV_REDIS_PASSWORD": "hunter22"},
			"6: processes[0].args[0]: ${IMENV_REDIS_PASSWORD} comes from the env file"},
		{"undefined variable", head + "processes:\n  - name: openim-api\n    workDir: ${NOPE}/x\n",
			nil, "5: processes[0].workDir: variable NOPE is not set"},
		{"unclosed variable", head + "processes:\n  - name: openim-api\n    workDir: ${NOPE\n",
			nil, "5: processes[0].workDir: unclosed ${ in value"},
		{"old version", "version: 1\nservices: {openim-api: 1}\n",
			nil, "1: version: the file is written in schema version 1; this openim-supervisor reads version 2 (fix: run `openim-supervisor config migrate"},
		{"new version", "# comment\nversion: 3\nwhatever: {}\n",
			nil, "2: version: the file is written in schema version 3, newer than this openim-supervisor understands (2): the binary is too old"},
		{"no version", "processes: []\n", nil, `1: version: missing`},
		{"yaml syntax", head + "processes:\n\t- name: openim-api\n", nil, "4: not valid YAML: found character that cannot start any token"},
		{"reserved env", head + "processes:\n  - name: openim-api\n    env: {NOTIFY_SOCKET: /x}\n",
			nil, "5: processes[0].env.NOTIFY_SOCKET: is set by the supervisor for itself"},
		{"name all", head + "processes:\n  - name: all\n", nil, `4: processes[0].name: "all" is reserved`},
		{"name with colon", head + "processes:\n  - name: \"a:b\"\n", nil, `4: processes[0].name: "a:b" is not a valid name`},
		{"no processes", head, nil, "processes: no processes to run"},
		{"missing env file", "envFile: missing.env\n" + head + "processes: [{name: openim-api}]\n",
			nil, "1: envFile: cannot read env file: no such file or directory"},
		{"ready http", head + "processes:\n  - name: openim-api\n    ready: {http: \"ftp://x\"}\n",
			nil, `5: processes[0].ready.http: "ftp://x" is not an http:// or https:// URL`},
		{"bad backoff", head + "processes:\n  - name: openim-api\n    backoff: {initial: 1m, max: 1s}\n",
			nil, "5: processes[0].backoff.max: 1s is less than initial (1m0s)"},
		{"missing bin dir", strings.Replace(head, "binDir: bin", "binDir: nobin", 1) + "processes: [{name: openim-api}]\n",
			nil, "2: paths.binDir: directory " + filepath.Join("DIR", "nobin") + ": no such file or directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tree(t, dir, "openim-api", "openim-msggateway")
			if tc.env != nil {
				var b strings.Builder
				for k, v := range tc.env {
					b.WriteString(k + "=" + v + "\n")
				}
				writeFile(t, filepath.Join(dir, "openim.env"), b.String(), 0o600)
			}
			cfg, file, err := load(t, dir, tc.body, nil)
			if err == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			if !IsConfigError(err) {
				t.Errorf("error is not a *config.Error: %T", err)
			}
			want := file + ":" + strings.ReplaceAll(tc.want, "DIR", dir)
			if strings.HasPrefix(tc.want, "processes: no") {
				want = file + ": " + tc.want
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
			for _, v := range tc.env {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error shows the secret %q: %v", v, err)
				}
			}
		})
	}
}

func TestVersionErrorKinds(t *testing.T) {
	t.Parallel()
	for v, older := range map[string]bool{"1": true, "9": false} {
		_, err := Parse("c.yaml", []byte("version: "+v+"\n"), Options{SkipFileChecks: true})
		var ve *VersionError
		if !errors.As(err, &ve) || ve.Older() != older || ve.Current != CurrentVersion {
			t.Errorf("version %s: got %#v (%v)", v, ve, err)
		}
	}
}

func TestAllProblemsReportedInLineOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree(t, dir, "openim-api")
	_, _, err := load(t, dir, head+`processes:
  - name: openim-api
    instances: 0
  - name: openim-api
log: {maxFiles: 0}
`, nil)
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	lines := []int{}
	for _, e := range es {
		var ce *Error
		errors.As(e, &ce)
		lines = append(lines, ce.Line)
	}
	if !reflect.DeepEqual(lines, []int{5, 6, 7}) {
		t.Errorf("lines %v, want [5 6 7]:\n%v", lines, err)
	}
}

func TestExpansion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree(t, dir, "openim-api")
	writeFile(t, filepath.Join(dir, "openim.env"), "IMENV_REDIS_PASSWORD='p@ss w#rd'\nSHARED=from-file\n", 0o600)
	cfg, _, err := load(t, dir, `envFile: ${ENVDIR}/openim.env
`+head+`processes:
  - name: openim-api
    args: ["--region=${REGION}", "--zone=${ZONE:-z1}", "--literal=$${REGION}", "$HOME"]
    instances: ${N}
    env:
      REDIS_PASSWORD: ${IMENV_REDIS_PASSWORD}
      WHO: ${SHARED}
`, map[string]string{"ENVDIR": dir, "REGION": "eu", "N": "2", "SHARED": "from-env"})
	if err != nil {
		t.Fatal(err)
	}
	in := cfg.Instances()
	if len(in) != 2 {
		t.Fatalf("instances: %d, want 2 (from ${N})", len(in))
	}
	wantArgs := []string{"-i", "1", "-c", filepath.Join(dir, "conf"), "--region=eu", "--zone=z1", "--literal=${REGION}", "$HOME"}
	if !reflect.DeepEqual(in[1].Args, wantArgs) {
		t.Errorf("args %q, want %q", in[1].Args, wantArgs)
	}
	// The env file's variables come first, then the process's own env; the
	// env file wins over the supervisor's environment in expansion.
	wantEnv := []string{"IMENV_REDIS_PASSWORD=p@ss w#rd", "SHARED=from-file", "REDIS_PASSWORD=p@ss w#rd", "WHO=from-file"}
	if !reflect.DeepEqual(in[0].Env, wantEnv) {
		t.Errorf("env %q, want %q", in[0].Env, wantEnv)
	}
	if got := cfg.Redact("auth failed for p@ss w#rd at from-file"); got != "auth failed for *** at ***" {
		t.Errorf("Redact = %q", got)
	}
}

func TestDefaultsInheritKeyByKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree(t, dir, "openim-api", "openim-push")
	cfg, _, err := load(t, dir, head+`defaults:
  stopTimeout: 7s
  ready: {after: 3s}
  backoff: {maxFailures: 4}
processes:
  - name: openim-api
    ports: [10002]
    ready: {tcp: "127.0.0.1:{port}"}
    backoff: {initial: 2s, max: 1m}
  - name: openim-push
    restart: never
    stopTimeout: 1s
    stopSignal: sigint
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	api, push := cfg.Instances()[0], cfg.Instances()[1]
	def := Default().Defaults
	if api.Ready != (ResolvedReady{After: 3 * time.Second, TCP: "127.0.0.1:10002", Timeout: def.Ready.Timeout.D()}) {
		t.Errorf("api ready %+v", api.Ready)
	}
	wantB := def.Backoff
	wantB.Initial, wantB.Max, wantB.MaxFailures = Duration(2*time.Second), Duration(time.Minute), 4
	if api.Backoff != wantB || api.StopTimeout != 7*time.Second || api.Restart != RestartAlways || api.StopSignal != "TERM" {
		t.Errorf("api %+v", api)
	}
	if push.Restart != RestartNever || push.StopTimeout != time.Second || push.StopSignal != "INT" {
		t.Errorf("push: explicit values lost: %+v", push)
	}
	if push.Backoff.MaxFailures != 4 {
		t.Errorf("push backoff %+v: defaults section ignored", push.Backoff)
	}
}

func TestRelativePathsFromConfigDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree(t, dir)
	writeFile(t, filepath.Join(dir, "tools", "standin"), "#!/bin/sh\n", 0o755)
	if err := os.MkdirAll(filepath.Join(dir, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := load(t, dir, head+`processes:
  - name: extra
    command: ./tools/standin
    workDir: work
  - name: sh
    command: sh
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := cfg.Instances()
	if in[0].Path != filepath.Join(dir, "tools", "standin") || in[0].Dir != filepath.Join(dir, "work") ||
		cfg.Paths.LogDir != filepath.Join(dir, "log") || in[1].Path != "sh" || len(in[0].Args) != 0 {
		t.Errorf("got %+v / %+v / %s", in[0], in[1], cfg.Paths.LogDir)
	}
}

func TestNotExecutable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no x bit on Windows")
	}
	t.Parallel()
	dir := t.TempDir()
	tree(t, dir)
	writeFile(t, filepath.Join(dir, "bin", "openim-api"), "data", 0o644)
	_, _, err := load(t, dir, head+"processes: [{name: openim-api}]\n", nil)
	if err == nil || !strings.Contains(err.Error(), "is not executable (fix: chmod +x it)") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "cannot read config") || !strings.Contains(err.Error(), "openim-supervisor init") {
		t.Fatalf("got %v", err)
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Processes = []Process{{Name: "sh", Command: "sh", Instances: 0}}
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "processes[0].instances: is 0") {
		t.Fatalf("got %v", err)
	}
	c.Processes[0].Instances = 1
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestEnvFileSyntax(t *testing.T) {
	t.Parallel()
	env, err := ParseEnv("e", []byte("\ufeff# c\n\nexport A=1\nB = two words \nC='x#y \"z\"'\nD=\"a\\\"b\\n\\$c\"\nE=\nF=p#w\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "two words", "C": `x#y "z"`, "D": "a\"b\n$c", "E": "", "F": "p#w"}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("got %q, want %q", env, want)
	}
	for in, msg := range map[string]string{
		"JUSTTEXT":             "e:1: line is not KEY=VALUE",
		"1A=x":                 "e:1: 1A: not a valid variable name",
		"A='secret":            "e:1: A: single-quoted value is not closed",
		"A=\"secret":           "e:1: A: double-quoted value is not closed",
		"A=\"secret\\q\"":      "e:1: A: unknown escape",
		"A=secret\n\nA=secret": "e:3: A: set again (first at line 1)",
	} {
		_, err := ParseEnv("e", []byte(in))
		if err == nil || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: got %v, want %q and no value", in, err, msg)
		}
	}
}

func TestByteSizeAndDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ByteSize{"10MiB": 10 << 20, "512KiB": 512 << 10, "1GiB": 1 << 30, "123": 123, "2MB": 2e6, "5 M": 5 << 20} {
		var b ByteSize
		if err := b.parse(in); err != nil || b != want {
			t.Errorf("%q: %v %v", in, b, err)
		}
	}
	if got := ByteSize(50 << 20).String(); got != "50MiB" {
		t.Errorf("String = %s", got)
	}
	var b ByteSize
	if b.parse("99999999999GiB") == nil {
		t.Error("overflow accepted")
	}
}

// Clients that only need a setting (the socket) load with SkipFileChecks: an
// env file they may not read and variables they lack must not stop them.
func TestSkipFileChecksIsLenient(t *testing.T) {
	t.Parallel()
	body := "envFile: /nonexistent/openim.env\n" + head + "processes:\n  - name: openim-api\n    env: {PW: \"${IMENV_PW}\"}\n    workDir: ${UNSET}/w\n"
	cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(body), Options{SkipFileChecks: true, LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Processes[0].Env["PW"] != "" || !strings.HasSuffix(cfg.Paths.Socket, filepath.Join("run", "supervisor.sock")) {
		t.Errorf("got %+v %s", cfg.Processes[0], cfg.Paths.Socket)
	}
	// A readable env file is still used, and its secrets still stay out of args.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "openim.env"), "IMENV_PW=pw\n", 0o600)
	_, err = Parse(filepath.Join(dir, "c.yaml"), []byte("envFile: openim.env\n"+head+
		"processes:\n  - name: openim-api\n    args: [\"${IMENV_PW}\"]\n"), Options{SkipFileChecks: true, LookupEnv: noEnv})
	if err == nil || !strings.Contains(err.Error(), "comes from the env file") {
		t.Errorf("got %v", err)
	}
}

func TestEnvFileTooLarge(t *testing.T) {
	t.Parallel()
	p := writeFile(t, filepath.Join(t.TempDir(), "big.env"), "A="+strings.Repeat("x", 1<<20)+"\n", 0o600)
	if _, err := ReadEnvFile(p); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("got %v", err)
	}
	if _, err := ReadEnvFile(filepath.Dir(p)); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: got %v", err)
	}
}
