package openimconf

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/testenv"
)

// startEtcd runs the real etcd on a free loopback port.
func startEtcd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		testenv.Missing(t, "etcd not installed (apt-get install etcd-server)")
	}
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	client, peer := port(), port()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--data-dir", filepath.Join(dir, "data"), "--name", "t",
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", client),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", client),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peer),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peer),
		"--initial-cluster", fmt.Sprintf("t=http://127.0.0.1:%d", peer))
	log, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait(); log.Close() })
	addr := fmt.Sprintf("127.0.0.1:%d", client)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := ConfigCenter(context.Background(), Discovery{Enable: "etcd", Etcd: Etcd{Address: []string{addr}}}); err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "etcd.log"))
			t.Fatalf("etcd did not answer in 20 s:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func etcdctl(t *testing.T, addr string, args ...string) {
	t.Helper()
	cmd := exec.Command("etcdctl", append([]string{"--endpoints", addr}, args...)...)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("etcdctl %v: %v\n%s", args, err, out)
	}
}

func TestConfigCenter(t *testing.T) {
	t.Parallel()
	addr := startEtcd(t)
	disc := Discovery{Enable: "etcd", Etcd: Etcd{Address: []string{"127.0.0.1:1", addr}}}
	ctx := context.Background()
	if on, err := ConfigCenter(ctx, disc); err != nil || on {
		t.Fatalf("no key: %v %v", on, err)
	}
	etcdctl(t, addr, "put", ConfigCenterKey, "disable")
	if on, err := ConfigCenter(ctx, disc); err != nil || on {
		t.Fatalf("disable: %v %v", on, err)
	}
	etcdctl(t, addr, "put", ConfigCenterKey, "enable")
	if on, err := ConfigCenter(ctx, disc); err != nil || !on {
		t.Fatalf("enable: %v %v", on, err)
	}
	if on, err := ConfigCenter(ctx, Discovery{Enable: "zookeeper"}); err != nil || on {
		t.Fatalf("zookeeper: %v %v", on, err)
	}
	if _, err := ConfigCenter(ctx, Discovery{Enable: "etcd", Etcd: Etcd{Address: []string{"127.0.0.1:1"}}}); err == nil {
		t.Fatal("no error for an etcd that does not answer")
	}
}
