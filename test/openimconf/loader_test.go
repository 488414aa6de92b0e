package openimconf_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	oc "github.com/openimsdk/open-im-server/v3/pkg/common/config"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

func modDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openimsdk/open-im-server/v3").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// same compares two decoded structs key by key (mapstructure keys), so the
// mirror and OpenIM's type can be compared although they are different types.
func same(a, b reflect.Value, path string, diffs *[]string) {
	if !b.IsValid() {
		*diffs = append(*diffs, path+": not a key of OpenIM's struct")
		return
	}
	if a.Kind() == reflect.Pointer {
		a, b = a.Elem(), b.Elem()
	}
	if a.Kind() != reflect.Struct {
		if fmt.Sprint(a.Interface()) != fmt.Sprint(b.Interface()) {
			*diffs = append(*diffs, fmt.Sprintf("%s: openimconf %#v, OpenIM %#v", path, a.Interface(), b.Interface()))
		}
		return
	}
	bf := map[string]reflect.Value{}
	for i := 0; i < b.NumField(); i++ {
		if b.Type().Field(i).IsExported() {
			bf[key(b.Type().Field(i))] = b.Field(i)
		}
	}
	for i := 0; i < a.NumField(); i++ {
		k := key(a.Type().Field(i))
		same(a.Field(i), bf[k], path+"."+k, diffs)
	}
}

// TestDecodeMatchesOpenIMLoader decodes OpenIM's shipped dir, edited and
// with IMENV_ variables in the environment, with OpenIM's own LoadConfig
// and with openimconf, and compares every value.
func TestDecodeMatchesOpenIMLoader(t *testing.T) {
	src := pristine(t)
	for _, tc := range []struct {
		name  string
		edits map[string][2]string // file -> old, new
		env   map[string]string
	}{
		{name: "shipped"},
		{name: "lists, ints, bools, nested", env: map[string]string{
			"IMENV_MONGODB_ADDRESS":           "db1:27017,db2:27017",
			"IMENV_OPENIM_API_API_PORTS":      "10102",
			"IMENV_OPENIM_RPC_USER_RPC_PORTS": "10320,10321",
			"IMENV_SHARE_MULTILOGIN_POLICY":   "3",
			"IMENV_LOG_ISSTDOUT":              "true",
			"IMENV_KAFKA_TLS_ENABLETLS":       "1",
			"IMENV_SHARE_IMADMINUSERID":       "admin1,admin2",
			"IMENV_REDIS_PASSWORD":            "s3cret",
			"IMENV_OPENIM_PUSH_ENABLE":        "fcm",
		}},
		{name: "empty variable is unset", env: map[string]string{"IMENV_REDIS_PASSWORD": "", "IMENV_SHARE_SECRET": ""}},
		{name: "key not in the file", edits: map[string][2]string{"mongodb.yml": {"uri: \n", ""}},
			env: map[string]string{"IMENV_MONGODB_URI": "mongodb://x", "IMENV_MINIO_NOSUCHKEY": "1"}},
		{name: "parent variable shadows", env: map[string]string{"IMENV_OPENIM_PUSH_PROMETHEUS": "x", "IMENV_KAFKA_TLS": "y"}},
		{name: "null keys and weak types", edits: map[string][2]string{
			"log.yml":        {"rotationTime: 24", "rotationTime:"},
			"openim-api.yml": {"ports: [ 10002 ]", "ports: 10002"},
			"share.yml":      {"secret: openIM123", "secret: 12345"},
			"redis.yml":      {"address: [ localhost:16379 ]", "address: a:1"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, s := range openimconf.Files() {
				b, err := os.ReadFile(filepath.Join(src, s.Name))
				if err != nil {
					t.Fatal(err)
				}
				if e, ok := tc.edits[s.Name]; ok {
					if !bytes.Contains(b, []byte(e[0])) {
						t.Fatalf("%s has no %q", s.Name, e[0])
					}
					b = bytes.Replace(b, []byte(e[0]), []byte(e[1]), 1)
				}
				if err := os.WriteFile(filepath.Join(dir, s.Name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for k, v := range tc.env {
				t.Setenv(k, v) // OpenIM's loader reads the process environment
			}
			d, err := openimconf.Load(dir, openimconf.Options{})
			if err != nil {
				t.Fatal(err)
			}
			th := theirs()
			for _, s := range openimconf.Files() {
				ours, want := s.New(), th[s.Name]()
				if err := oc.LoadConfig(filepath.Join(dir, s.Name), s.Prefix, want); err != nil {
					t.Fatalf("OpenIM's LoadConfig %s: %v", s.Name, err)
				}
				if err := d.Decode(s.Name, ours); err != nil {
					t.Fatalf("openimconf %s: %v", s.Name, err)
				}
				var diffs []string
				same(reflect.ValueOf(ours), reflect.ValueOf(want), s.Name, &diffs)
				for _, df := range diffs {
					t.Error(df)
				}
			}
		})
	}
}
