//go:build linux

package realopenim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/openimtest"
)

// BenchmarkStartToUsable: the time from start to usable (openim-api serves a
// request through every RPC service, judged from OpenIM's API alone) for
// the real OpenIM 3.8.3 set of 26 instances on the servers of
// scripts/test-services.sh:
//   - openim-supervisor: `run` with the shipped config (init's example:
//     pre-start check-free-memory and check-component, readiness, barrier);
//   - mage-start: OpenIM's own `mage start` (gomake's StartToolsAndServices:
//     check-free-memory, check-component and seq, then every instance at
//     once, no readiness), compiled by mage from OpenIM's magefile.go beforehand.
//
// Each runs with every component up, and again with Redis or Kafka
// reachable only lateBy after the start ("-redis-late", "-kafka-late"),
// the measure: usable within 2 s of the slowest component. Each
// reports s-to-usable, the late runs s-after-component (from the moment
// the component became reachable), mage-start s-mage-returned (when `mage
// start` came back), openim-supervisor cpu-s-supervisor (the CPU time the
// supervisor itself had used by the moment OpenIM was usable). Not part of the tests: scripts/bench.sh runs it with
// `go test -run '^$' -bench StartToUsable -benchtime 1x ./test/realopenim`.
func BenchmarkStartToUsable(b *testing.B) {
	env := openimtest.Require(b)
	bin := openimtest.BuildSupervisor(b)
	// Compiled here, not in a sub-benchmark: a sub-benchmark's TempDir goes
	// when it ends.
	mage, mageErr := compileMage(b)
	for _, late := range []string{"", "redis", "kafka"} {
		suffix := ""
		if late != "" {
			suffix = "-" + late + "-late"
		}
		b.Run("openim-supervisor"+suffix, func(b *testing.B) {
			for range b.N {
				startSupervisor(b, env, bin, late)
			}
		})
		b.Run("mage-start"+suffix, func(b *testing.B) {
			b.StopTimer()
			if mageErr != nil {
				b.Skipf("mage start cannot run here: %v", mageErr)
			}
			for range b.N {
				startMage(b, env, mage, late)
			}
		})
	}
}

// lateBy is how long after the start the late component becomes
// reachable: the version gate (Redis) or pre-start (Kafka) is then waiting
// for it, and every OpenIM service that started before it would fail.
const lateBy = 3 * time.Second

// lateComponent points the deployment's Redis or Kafka at a loopback port
// that refuses connections until up is called (IMENV_REDIS_ADDRESS or
// IMENV_KAFKA_ADDRESS, as an operator's env file would), then forwards it
// to the test server. It returns the variable and up, which opens the port
// and returns the moment it did.
func lateComponent(b *testing.B, d *openimtest.Deployment, which string) (string, func() time.Time) {
	target, env := d.Env.RedisAddr, "IMENV_REDIS_ADDRESS"
	if which == "kafka" {
		target, env = d.Env.KafkaAddr, "IMENV_KAFKA_ADDRESS"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	up := func() time.Time {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			b.Fatalf("open the late %s port %s again: %v", which, addr, err)
		}
		b.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go forward(c, target)
			}
		}()
		return time.Now()
	}
	return env + "=" + addr, up
}

// forward copies between c and a new connection to target until either
// side closes.
func forward(c net.Conn, target string) {
	defer c.Close()
	t, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer t.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(t, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, t); done <- struct{}{} }()
	<-done
}

// startSupervisor runs `openim-supervisor run` with the shipped config on a
// fresh deployment and reports the time to usable (and, with late, from the
// moment that component became reachable).
func startSupervisor(b *testing.B, env openimtest.Env, bin string, late string) {
	b.StopTimer()
	d := openimtest.New(b, env, openimtest.Options{})
	d.UseShippedConfig(b)
	var up func() time.Time
	if late != "" {
		var v string
		v, up = lateComponent(b, d, late)
		if err := os.WriteFile(filepath.Join(d.Dir, "openim.env"), []byte(v+"\n"), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	sup := d.StartSupervisor(b, bin)
	var tUp time.Time
	if late != "" {
		select {
		case <-time.After(lateBy):
		case <-sup.Done():
			b.Fatalf("the supervisor exited while %s was down: %v\n%s", late, sup.Err(), sup.Text())
		}
		tUp = up()
	}
	sup.WaitUsable(ctx, b, d)
	b.ReportMetric(time.Since(t0).Seconds(), "s-to-usable")
	if late != "" {
		b.ReportMetric(time.Since(tUp).Seconds(), "s-after-component")
	}
	pid := sup.Cmd.Process.Pid
	defer func() {
		// After the figures at "usable": when every instance was ready
		// (READY=1), from the supervisor's "started" line.
		at, err := allReadyAt(ctx, sup)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(at.Sub(t0).Seconds(), "s-to-all-ready")
		if late != "" {
			b.ReportMetric(at.Sub(tUp).Seconds(), "s-all-ready-after-component")
		}
	}()
	reportWork(b, d, func(p openimtest.Proc) bool { return p.PPID == pid })
	// The supervisor's own CPU time by then, with its guardian (the same
	// binary, its child, in a process group of its own): what it took from
	// OpenIM on the same cores.
	own, err := openimtest.ProcsWhere(func(p openimtest.Proc) bool {
		return p.Name == "openim-supervisor" && (p.PID == pid || p.PPID == pid)
	})
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	for _, p := range own {
		cpu += p.CPU
	}
	if len(own) != 2 {
		b.Fatalf("found %d openim-supervisor processes (the supervisor and its guardian), want 2", len(own))
	}
	b.ReportMetric(cpu.Seconds(), "cpu-s-supervisor")
}

// allReadyAt waits for the supervisor's "started" line (every instance has
// been ready, READY=1 under systemd) and returns the time it carries.
func allReadyAt(ctx context.Context, sup *openimtest.Supervisor) (time.Time, error) {
	for {
		for _, l := range strings.Split(sup.Text(), "\n") {
			if !strings.Contains(l, " msg=started ") {
				continue
			}
			ts, _, _ := strings.Cut(strings.TrimPrefix(l, "time="), " ")
			return time.Parse(time.RFC3339Nano, ts)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("no \"started\" line from the supervisor: %w\n%s", ctx.Err(), sup.Text())
		case <-sup.Done():
			return time.Time{}, fmt.Errorf("the supervisor exited before every instance was ready: %v\n%s", sup.Err(), sup.Text())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// reportWork reports what the OpenIM services that belong to this start
// (ours says which) have done by the time the set is usable: how many run
// ("instances"), the CPU time they have used ("cpu-s-openim", user and
// system, from /proc) and the sockets they hold ("sockets"). OpenIM 3.8.3's
// etcd discovery (openimsdk/tools discovery/etcd) dials every registered
// endpoint again on each change under its root and never closes the old
// connections, so these grow with the number of services that are already
// running when the others register; the start is bound by that CPU.
func reportWork(b *testing.B, d *openimtest.Deployment, ours func(openimtest.Proc) bool) {
	service := map[string]bool{}
	for _, s := range d.Services {
		service[s] = true
	}
	ps, err := openimtest.ProcsWhere(func(p openimtest.Proc) bool { return service[p.Name] && ours(p) })
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	socks := 0
	for _, p := range ps {
		cpu += p.CPU
		if n, err := p.Sockets(); err == nil {
			socks += n
		}
	}
	b.ReportMetric(float64(len(ps)), "instances")
	b.ReportMetric(cpu.Seconds(), "cpu-s-openim")
	b.ReportMetric(float64(socks), "sockets")
}

// startMage runs OpenIM's own `mage start` on a fresh deployment and
// reports the time to usable (and from the moment the late component became
// reachable),
// and when mage start returned.
func startMage(b *testing.B, env openimtest.Env, mage string, late string) {
	b.StopTimer()
	d := openimtest.New(b, env, openimtest.Options{})
	root, err := mageLayout(b, d, mage)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := os.Create(filepath.Join(root, "mage.out"))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(filepath.Join(root, "mage-openim"), "start")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var up func() time.Time
	if late != "" {
		var v string
		v, up = lateComponent(b, d, late)
		cmd.Env = append(os.Environ(), v)
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	pgid := cmd.Process.Pid
	b.Cleanup(func() { stopGroup(pgid) })
	returned := make(chan time.Time, 1)
	go func() { _ = cmd.Wait(); returned <- time.Now() }()
	var tUp time.Time
	if late != "" {
		time.Sleep(lateBy)
		tUp = up()
	}
	if err := d.WaitUsable(ctx); err != nil {
		msg, _ := os.ReadFile(out.Name())
		b.Fatalf("not usable after mage start: %v\n%s", err, msg)
	}
	b.ReportMetric(time.Since(t0).Seconds(), "s-to-usable")
	if late != "" {
		b.ReportMetric(time.Since(tUp).Seconds(), "s-after-component")
	}
	reportWork(b, d, func(p openimtest.Proc) bool { return p.PGID == pgid })
	select {
	case t := <-returned:
		b.ReportMetric(t.Sub(t0).Seconds(), "s-mage-returned")
	case <-time.After(time.Minute):
		b.Errorf("mage start did not return within a minute of usable")
	}
}

// compileMage builds OpenIM 3.8.3's magefile into an executable (`mage
// -compile`) from the module's own magefile.go, go.mod and go.sum. The
// modules come through the Go module proxy (gomake is not in the checksum
// database, so GONOSUMDB names it; go.sum from OpenIM still checks it).
func compileMage(b *testing.B) (string, error) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env := append(os.Environ(), "GONOSUMDB=github.com/openimsdk", "GOFLAGS=-mod=mod")
	dl := exec.CommandContext(ctx, "go", "mod", "download", "-json", "github.com/openimsdk/open-im-server/v3@v3.8.3")
	dl.Dir, dl.Env = b.TempDir(), env
	j, err := dl.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download open-im-server v3.8.3: %w", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(j, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download open-im-server v3.8.3: no dir in %s", j)
	}
	src := b.TempDir()
	for _, f := range []string{"magefile.go", "magefile_unix.go", "go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(m.Dir, f), filepath.Join(src, f), 0o644); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(b.TempDir(), "mage-openim")
	cmd := exec.CommandContext(ctx, "go", "run", "github.com/magefile/mage@v1.15.0", "-compile", bin)
	cmd.Dir, cmd.Env = src, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mage -compile: %w\n%s", err, out)
	}
	return bin, nil
}

// mageLayout lays out what `mage start` expects in its working dir:
// start-config.yml (OpenIM's: 26 instances), config/ (the deployment's),
// _output/bin/platforms/OS/ARCH/ and _output/bin/tools/OS/ARCH/ with the
// binaries (hard links, so mage's process checks see these paths).
func mageLayout(b *testing.B, d *openimtest.Deployment, mage string) (string, error) {
	root := b.TempDir()
	plat := filepath.Join(runtime.GOOS, runtime.GOARCH)
	bins := filepath.Join(root, "_output", "bin", "platforms", plat)
	tools := filepath.Join(root, "_output", "bin", "tools", plat)
	for _, dir := range []string{bins, tools} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
	}
	link := func(name, dir string) error {
		from, to := filepath.Join(d.Env.BinDir, name), filepath.Join(dir, name)
		if os.Link(from, to) == nil {
			return nil
		}
		return copyFile(from, to, 0o755)
	}
	startCfg := "serviceBinaries:\n"
	for _, s := range d.Services {
		if err := link(s, bins); err != nil {
			return "", err
		}
		startCfg += fmt.Sprintf("  %s: %d\n", s, d.Instances[s])
	}
	startCfg += "toolBinaries:\n"
	for _, t := range openimtest.Tools() {
		if err := link(t, tools); err != nil {
			return "", err
		}
		startCfg += "  - " + t + "\n"
	}
	startCfg += "maxFileDescriptors: 10000\n"
	if err := os.WriteFile(filepath.Join(root, "start-config.yml"), []byte(startCfg), 0o644); err != nil {
		return "", err
	}
	if err := os.Symlink(d.ConfigDir, filepath.Join(root, "config")); err != nil {
		return "", err
	}
	if err := os.Link(mage, filepath.Join(root, "mage-openim")); err != nil {
		if err := copyFile(mage, filepath.Join(root, "mage-openim"), 0o755); err != nil {
			return "", err
		}
	}
	return root, nil
}

// stopGroup ends what mage started (its process group): SIGTERM, then
// SIGKILL after 30 s.
func stopGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	for range 300 {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
