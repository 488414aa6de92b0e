package migrate

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml")

func migrateFile(t *testing.T, path string) Result {
	t.Helper()
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Migrate(path, in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestV1ToV2Golden(t *testing.T) {
	t.Parallel()
	res := migrateFile(t, "testdata/v1.yaml")
	if res.From != 1 || res.To != config.CurrentVersion || len(res.Applied) != 1 {
		t.Errorf("result %d -> %d, steps %q", res.From, res.To, res.Applied)
	}
	const golden = "testdata/v2.golden.yaml"
	if *update {
		if err := os.WriteFile(golden, res.Out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Out, want) {
		t.Errorf("migrated file differs from %s (go test -update to accept):\n%s", golden, res.Out)
	}
}

var commentRE = regexp.MustCompile(`#[^\n]*`)

func TestV1ToV2KeepsEveryComment(t *testing.T) {
	t.Parallel()
	in, _ := os.ReadFile("testdata/v1.yaml")
	res := migrateFile(t, "testdata/v1.yaml")
	for _, c := range commentRE.FindAllString(string(in), -1) {
		if !strings.Contains(string(res.Out), strings.TrimSpace(c)) {
			t.Errorf("comment %q lost", c)
		}
	}
}

func TestV1ToV2KeepsValues(t *testing.T) {
	t.Parallel()
	res := migrateFile(t, "testdata/v1.yaml")
	cfg, err := config.Parse("/etc/openim/config.yaml", res.Out, config.Options{SkipFileChecks: true,
		LookupEnv: func(k string) (string, bool) { return "https://audit.example", k == "AUDIT_URL" }})
	if err != nil {
		t.Fatalf("migrated file does not load:\n%v\n%s", err, res.Out)
	}
	p := cfg.Paths
	if p.BinDir != "/opt/openim/bin" || p.OpenIMConfigDir != "/opt/openim/config" || p.RuntimeDir != "/run/openim" ||
		p.StateDir != "/var/lib/openim" || p.LogDir != "/var/log/openim" || cfg.EnvFile != "/etc/openim/openim.env" {
		t.Errorf("paths %+v env %s", p, cfg.EnvFile)
	}
	d := cfg.Defaults
	if d.StopTimeout.D() != 45*time.Second || d.Restart != config.RestartOnFailure || d.Ready.After.D() != 3*time.Second {
		t.Errorf("defaults %+v", d)
	}
	var names []string
	total := 0
	for _, pr := range cfg.Processes {
		names = append(names, pr.Name)
		total += pr.Instances
	}
	wantNames := []string{"openim-api", "openim-rpc-user", "openim-push", "openim-msgtransfer", "openim-msggateway", "openim-crontask", "audit-shipper"}
	if !reflect.DeepEqual(names, wantNames) || total != 21 {
		t.Errorf("processes %v (%d instances)", names, total)
	}
	audit := cfg.Instances()[total-1]
	if audit.Dir != "/var/lib/audit" || audit.Restart != config.RestartAlways || !reflect.DeepEqual(audit.Args, []string{"--to", "https://audit.example"}) ||
		audit.StopTimeout != 45*time.Second {
		t.Errorf("audit-shipper %+v", audit)
	}
	if len(cfg.PreStart) != 3 || cfg.PreStart[2].Name != "seq" || cfg.Log.Target != config.LogFile || cfg.Log.MaxSize != 20<<20 {
		t.Errorf("preStart %+v log %+v", cfg.PreStart, cfg.Log)
	}
}

func TestCurrentVersionUnchanged(t *testing.T) {
	t.Parallel()
	in := []byte("version: 2   # already current\nprocesses: [{name: x}]\n")
	res, err := Migrate("c.yaml", in)
	if err != nil || res.From != 2 || res.To != 2 || !bytes.Equal(res.Out, in) || len(res.Applied) != 0 {
		t.Errorf("got %+v, %v", res, err)
	}
}

func TestMigrateRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ in, want string }{
		"newer":         {"version: 9\n", "c.yaml: version: schema version 9 is newer than this openim-supervisor knows (2)"},
		"unknown key":   {"version: 1\nservices: {a: 1}\nbinDirs: /x\n", "c.yaml:3: binDirs: not a key of schema version 1"},
		"program key":   {"version: 1\nprograms:\n  - name: a\n    workdir: /x\n", "c.yaml:4: programs[0].workdir: not a key of schema version 1"},
		"services list": {"version: 1\nservices: [a]\n", "c.yaml:2: services: want a mapping of NAME: instances"},
		"no version":    {"services: {a: 1}\n", "c.yaml:1: version: missing"},
	} {
		_, err := Migrate("c.yaml", []byte(tc.in))
		var ce *config.Error
		if err == nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

func TestMinimalV1(t *testing.T) {
	t.Parallel()
	res, err := Migrate("c.yaml", []byte("version: 1\nservices:\n  openim-api: 1\n  openim-push: 8\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "version: 2\n\nprocesses:\n  - name: openim-api\n    instances: 1\n  - name: openim-push\n    instances: 8\n"
	if string(res.Out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", res.Out, want)
	}
}

func TestStepsAreContiguous(t *testing.T) {
	t.Parallel()
	steps := Steps()
	if len(steps) != config.CurrentVersion-1 {
		t.Fatalf("%d steps for schema %d", len(steps), config.CurrentVersion)
	}
	for i, s := range steps {
		if s.From != i+1 {
			t.Errorf("step %d has From %d", i, s.From)
		}
	}
}

func FuzzMigrate(f *testing.F) {
	in, _ := os.ReadFile("testdata/v1.yaml")
	f.Add(in)
	f.Add([]byte("version: 1\nreadyAfter: &x 3s\nservices: {a: *x}\n"))
	f.Add([]byte("version: 1\ntools: [a, {name: b}]\nprograms: [{name: p, dir: d}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Migrate("f.yaml", data)
		if err != nil {
			return
		}
		if v, err := config.Version("f.yaml", res.Out); err != nil || v != res.To {
			t.Fatalf("output version %d (%v):\n%s", v, err, res.Out)
		}
	})
}
