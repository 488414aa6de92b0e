package cli

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 9: no secret of the env file or of OpenIM's yml files is in the
// support bundle, though the files it comes from are.
func TestBundleHasNoSecrets(t *testing.T) {
	t.Setenv(EnvConfig, "")
	t.Setenv(EnvSocket, "")
	root := t.TempDir()
	if _, errOut, code := runCLI(t, "init", "--root", root); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	cfg := filepath.Join(root, "config.yaml")
	secrets := []string{"EnvMongoPass-91", "EnvShareSecret-92", "YmlRedisPass-93", "YmlMinioKey-94", "YmlEtcdPass-95", "EnvValueInYml-96"}
	env := "IMENV_MONGODB_PASSWORD=EnvMongoPass-91\nIMENV_SHARE_SECRET='EnvShareSecret-92'\nOTHER_TOKEN=EnvValueInYml-96\n"
	if err := os.WriteFile(filepath.Join(root, "openim.env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	yml := map[string]string{
		"redis.yml":     "address: [127.0.0.1:1]\npassword: YmlRedisPass-93 # the redis password\n",
		"minio.yml":     "bucket: openim\nsecretAccessKey: \"YmlMinioKey-94\"\naccessKeyID: root\nexternalAddress: http://external_ip:10005\n",
		"discovery.yml": "enable: etcd\netcd:\n  address: [127.0.0.1:1]\n  username: root\n  password: YmlEtcdPass-95\n",
		"mongodb.yml":   "address: [127.0.0.1:1]\ndatabase: openim_v3\nusername: openIM\npassword: ''\n# copied here by mistake: EnvValueInYml-96\n",
		"share.yml":     "secret: openIM123\nimAdminUserID: [imAdmin]\n",
	}
	for name, body := range yml {
		if err := os.WriteFile(filepath.Join(root, "config", name), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "support.tar.gz")
	stdout, errOut, code := runCLI(t, "--config", cfg, "bundle", "-o", out, "--timeout", "1s")
	if code != 0 || !strings.Contains(stdout, "wrote "+out) {
		t.Fatalf("bundle: exit %d\n%s\n%s", code, stdout, errOut)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("archive mode: %v %v", st.Mode(), err)
	}
	fh, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	gz, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got[strings.TrimPrefix(h.Name, "openim-support/")] = string(b)
	}
	for name, body := range got {
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s contains the secret %s:\n%s", name, s, body)
			}
		}
	}
	for name, want := range map[string]string{
		"versions.txt":                "openim-supervisor test (OpenIM 3.8.3)",
		"config/config.yaml":          "processes:",
		"config/openim.env.names":     "IMENV_MONGODB_PASSWORD=***",
		"openim-config/redis.yml":     "password: '***' # the redis password",
		"openim-config/minio.yml":     "accessKeyID: root",
		"openim-config/discovery.yml": "username: root",
		"doctor.json":                 `"check": "default-secret"`,
		"status.txt":                  "not running",
	} {
		if !strings.Contains(got[name], want) {
			t.Errorf("%s lacks %q:\n%s", name, want, got[name])
		}
	}
}
