//go:build unix

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/testenv"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// TestImport34ThenRealOpenIM383 is the end-to-end proof of `config import`
// with the real OpenIM 3.8.3: an OpenIM 3.4.0 config.yaml (the real file of
// the v3.4.0 tag) whose secret, admin, component addresses and ports differ
// from the defaults is imported; the supervisor runs the real OpenIM 3.8.3
// binaries on the result (test-services.sh: FerretDB, Redis, kfake, etcd,
// an S3 fake); an admin token is issued for the old secret and the API
// registers and returns a user.
func TestImport34ThenRealOpenIM383(t *testing.T) {
	bin := testenv.Var(t, "OPENIM_TEST_OPENIM_BIN") // scripts/test-services.sh builds the real OpenIM 3.8.3
	host := func(env string) string {
		v := os.Getenv(env)
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			return u.Host
		}
		return v
	}
	mongo, redis, kafka, etcd, s3 := host("OPENIM_TEST_MONGO_URI"), os.Getenv("OPENIM_TEST_REDIS_ADDR"),
		os.Getenv("OPENIM_TEST_KAFKA_ADDR"), os.Getenv("OPENIM_TEST_ETCD_ADDR"), os.Getenv("OPENIM_TEST_S3_ENDPOINT")
	for _, v := range []string{mongo, redis, kafka, etcd, s3} {
		if v == "" {
			t.Fatal("OPENIM_TEST_* component addresses are not set (scripts/test-services.sh start, then . .cache/test-env.sh)")
		}
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "etc", "config.yaml")
	if _, errOut, code := execCLI(strings.NewReader(""), "init", "--config", cfgPath, "--root", dir); code != ExitOK {
		t.Fatalf("init: %s", errOut)
	}
	if err := os.RemoveAll(filepath.Join(dir, "config")); err != nil { // import writes it
		t.Fatal(err)
	}

	// The operator's OpenIM 3.4 config: the real v3.4.0 file, edited.
	p := freePorts(t, 11)
	src, err := os.ReadFile("../openimconf/importer/legacy/3.4.0/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old, err := openimconf.ParseFile(openimconf.FileSpec{Name: "config.yaml"}, "config.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("openim_e2e_%d", time.Now().UnixNano())
	for k, v := range map[string]any{
		"secret":         "e2e-secret-34",
		"manager.userID": []string{"e2eAdmin"},
		"mongo.address":  []string{mongo}, "mongo.database": db, "mongo.username": "", "mongo.password": "",
		"redis.address": []string{redis}, "redis.password": "",
		"kafka.addr":                           []string{kafka},
		"object.minio.endpoint":                s3,
		"object.minio.signEndpoint":            s3,
		"object.minio.accessKeyID":             os.Getenv("OPENIM_TEST_S3_ACCESS_KEY"),
		"object.minio.secretAccessKey":         os.Getenv("OPENIM_TEST_S3_SECRET_KEY"),
		"api.openImApiPort":                    []int{p[0]},
		"longConnSvr.openImWsPort":             []int{p[1]},
		"longConnSvr.openImMessageGatewayPort": []int{p[2]},
		"rpcPort.openImUserPort":               []int{p[3]},
		"rpcPort.openImFriendPort":             []int{p[4]},
		"rpcPort.openImMessagePort":            []int{p[5]},
		"rpcPort.openImGroupPort":              []int{p[6]},
		"rpcPort.openImAuthPort":               []int{p[7]},
		"rpcPort.openImPushPort":               []int{p[8]},
		"rpcPort.openImConversationPort":       []int{p[9]},
		"rpcPort.openImThirdPort":              []int{p[10]},
		"prometheus.enable":                    false,
		"log.storageLocation":                  filepath.Join(dir, "openim-logs") + "/",
		"log.isStdout":                         true,
	} {
		if err := old.Set(k, v); err != nil {
			t.Fatal(k, err)
		}
	}
	oldDir := filepath.Join(dir, "openim-3.4", "config")
	if err := os.MkdirAll(oldDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := old.Write(filepath.Join(oldDir, "config.yaml")); err != nil {
		t.Fatal(err)
	}

	// The supervisor: the real binaries, one instance each, the api port
	// and the gateway's RPC port as imported.
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(cfg)
	for old, new := range map[string]string{
		"binDir: '" + filepath.Join(dir, "bin") + "'": "binDir: '" + bin + "'",
		"ports: [10002]": fmt.Sprintf("ports: [%d]", p[0]),
		"ports: [10140]": fmt.Sprintf("ports: [%d]", p[2]), // the gateway's RPC port, which its readiness dials
		"ports: [10320]": fmt.Sprintf("ports: [%d]", p[3]), // RPC services: as config check's fixes say
		"ports: [10240]": fmt.Sprintf("ports: [%d]", p[4]),
		"ports: [10280]": fmt.Sprintf("ports: [%d]", p[5]),
		"ports: [10260]": fmt.Sprintf("ports: [%d]", p[6]),
		"ports: [10200]": fmt.Sprintf("ports: [%d]", p[7]),
		"ports: [10170, 10171, 10172, 10173, 10174, 10175, 10176, 10177]": fmt.Sprintf("ports: [%d]", p[8]),
		"ports: [10220]":   fmt.Sprintf("ports: [%d]", p[9]),
		"ports: [10300]":   fmt.Sprintf("ports: [%d]", p[10]),
		"    instances: 8": "    instances: 1",
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("config.yaml has no %q", old)
		}
		s = strings.ReplaceAll(s, old, new)
	}
	if err := os.WriteFile(cfgPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := execCLI(nil, "config", "import", "--config", cfgPath, "--from", filepath.Dir(oldDir), "--etcd", etcd)
	if code != ExitOK {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := execCLI(nil, "config", "check", "--config", cfgPath); code != ExitOK {
		t.Fatalf("config check after import: exit %d\n%s%s", code, out, errOut)
	}

	var logBuf bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSupervisor$", "--", "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), helperEnv+"=1", "NOTIFY_SOCKET=", "WATCHDOG_USEC=", "JOURNAL_STREAM=", "INVOCATION_ID=")
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("supervisor output:\n%s", tail(logBuf.String(), 80))
		}
	}()

	api := fmt.Sprintf("http://127.0.0.1:%d", p[0])
	call := func(path, token string, body any, out any) (int, string) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, api+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("operationID", fmt.Sprintf("e2e-%d", time.Now().UnixNano()))
		if token != "" {
			req.Header.Set("token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1, err.Error()
		}
		defer resp.Body.Close()
		var env struct {
			ErrCode int             `json:"errCode"`
			ErrMsg  string          `json:"errMsg"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			return -1, err.Error()
		}
		if out != nil && env.ErrCode == 0 {
			_ = json.Unmarshal(env.Data, out)
		}
		return env.ErrCode, env.ErrMsg
	}
	var tok struct {
		Token string `json:"token"`
	}
	deadline := time.Now().Add(4 * time.Minute)
	for {
		code, msg := call("/auth/get_admin_token", "", map[string]string{"secret": "e2e-secret-34", "userID": "e2eAdmin"}, &tok)
		if code == 0 && tok.Token != "" {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the supervisor exited (%v) before the API answered", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no admin token within 4 minutes: errCode %d %s", code, msg)
		}
		time.Sleep(time.Second)
	}
	if code, _ := call("/auth/get_admin_token", "", map[string]string{"secret": "openIM123", "userID": "e2eAdmin"}, nil); code == 0 {
		t.Error("OpenIM 3.8.3's default secret got an admin token: the imported secret is not in effect")
	}
	if code, msg := call("/user/user_register", tok.Token, map[string]any{"users": []map[string]string{{"userID": "e2eUser1", "nickname": "imported", "faceURL": ""}}}, nil); code != 0 {
		t.Fatalf("user_register: errCode %d %s", code, msg)
	}
	var info struct {
		UsersInfo []struct {
			UserID   string `json:"userID"`
			Nickname string `json:"nickname"`
		} `json:"usersInfo"`
	}
	if code, msg := call("/user/get_users_info", tok.Token, map[string]any{"userIDs": []string{"e2eUser1"}}, &info); code != 0 ||
		len(info.UsersInfo) != 1 || info.UsersInfo[0].Nickname != "imported" {
		t.Fatalf("get_users_info: errCode %d %s %+v", code, msg, info)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
