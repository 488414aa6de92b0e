package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// SecureKafka is a Kafka of a test's own that speaks only TLS, with client
// certificates required, and SASL PLAIN: test/components run with
// -secure-dir (the program of OPENIM_TEST_COMPONENTS_BIN).
type SecureKafka struct {
	Addr string // 127.0.0.1:PORT
	// PEM files: the CA of the broker's and the client's certificates, an
	// unrelated CA, the client certificate and its key.
	CA, OtherCA, ClientCert, ClientKey string
	User, Password                     string // the SASL PLAIN login
}

// StartSecureKafka starts a SecureKafka that ends with t, or calls Missing
// without OPENIM_TEST_COMPONENTS_BIN.
func StartSecureKafka(t testing.TB) SecureKafka {
	t.Helper()
	bin := Var(t, "OPENIM_TEST_COMPONENTS_BIN")
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(t.TempDir(), "secure-kafka.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "-kafka", "", "-s3", "", "-secure-dir", dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the secure Kafka: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	logged := func() string { b, _ := os.ReadFile(out.Name()); return string(b) }
	deadline := time.After(20 * time.Second)
	for {
		addr, err := os.ReadFile(filepath.Join(dir, "addr"))
		if err == nil {
			read := func(name string) string {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			return SecureKafka{Addr: string(addr), CA: filepath.Join(dir, "ca.pem"), OtherCA: filepath.Join(dir, "other-ca.pem"),
				ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client.key"),
				User: read("user"), Password: read("password")}
		}
		select {
		case <-exited:
			t.Fatalf("the secure Kafka (%s) exited: %s", bin, logged())
		case <-deadline:
			t.Fatalf("the secure Kafka (%s) wrote no address in 20 s: %s", bin, logged())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
