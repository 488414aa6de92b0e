//go:build linux

package supervisor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// TestScale is a rough measurement, not part of the normal run: set
// OPENIM_SCALE_N=1000 to start N stand-ins in one process and report
// start-all, restart latency after SIGKILL, the test process's PSS and
// stop-all. The real side-by-side benchmark lives in bench/.
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("OPENIM_SCALE_N"))
	if n <= 0 {
		t.Skip("set OPENIM_SCALE_N to measure")
	}
	needLinux(t)
	cfg := newConfig(t, config.Process{Name: "openim-push", Instances: n})
	cfg.Defaults.Backoff.StableAfter = dur(time.Second)
	h := start(t, cfg, nil)
	t0 := time.Now()
	h.waitReady(60 * time.Second)
	t.Logf("N=%d start-all: %v", n, time.Since(t0))
	time.Sleep(1500 * time.Millisecond) // longer than stableAfter
	for i := 0; i < 4; i++ {
		runtime.GC()
	}
	debug.FreeOSMemory()
	if path := os.Getenv("OPENIM_SCALE_HEAP"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("goroutines: %d; threads: %s; PSS: %s; heap in use %d KiB, stacks %d KiB, sys %d KiB",
		runtime.NumGoroutine(), threads(), pss(), ms.HeapInuse>>10, ms.StackInuse>>10, ms.Sys>>10)
	var lats []time.Duration
	for i := 0; i < 20; i++ {
		id := "openim-push:" + strconv.Itoa(i*(n/20))
		s := h.get(id)
		killed := time.Now()
		syscall.Kill(s.PID, syscall.SIGKILL)
		ns := h.waitFor(id, 5*time.Second, "new pid", func(x InstanceStatus) bool { return x.PID != 0 && x.PID != s.PID })
		lats = append(lats, ns.StartedAt.Sub(killed))
	}
	t.Logf("restart latency after SIGKILL: %v", lats)
	time.Sleep(200 * time.Millisecond)
	t1 := time.Now()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("N=%d stop-all: %v", n, time.Since(t1))
}

func pss() string {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return err.Error()
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Pss:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "Pss:"))
		}
	}
	return "?"
}

func threads() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Threads:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "Threads:"))
		}
	}
	return "?"
}
