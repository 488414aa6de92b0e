//go:build linux

package supervisor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// Four children each writing 50 MiB of 100-byte lines as fast as they can
// do not delay the restart of another child that is SIGKILLed meanwhile,
// and every line reaches the log files (the disk keeps up here).
func TestFloodDoesNotDelayRestarts(t *testing.T) {
	t.Parallel()
	needLinux(t)
	const size = 50 << 20
	line := bytes.Repeat([]byte("f"), 99)
	flood := fmt.Sprintf("yes %s | head -c %d; echo flood done; exec sleep 3600", line, size)
	cfg := newConfig(t,
		config.Process{Name: "flood", Command: "/bin/sh", Args: []string{"-c", flood}, Restart: config.RestartNever, Instances: 4},
		config.Process{Name: "victim", Command: filepath.Join(standinDir, "extra"), Instances: 2,
			Backoff: &config.Backoff{Initial: dur(time.Second), Max: dur(time.Second), StableAfter: dur(50 * time.Millisecond),
				MaxFailures: 100, Window: dur(time.Minute), Cooldown: dur(time.Minute)}},
	)
	fs, err := logs.NewFileSink(cfg.Paths.LogDir, 1<<30, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	h := start(t, cfg, fs)
	h.waitReady(20 * time.Second)
	waitLine(t, h.m, "flood:3", "ffff", 10*time.Second) // the flood is on
	t0 := time.Now()
	var lat []time.Duration
	for k := 0; k < 6; k++ {
		id := fmt.Sprintf("victim:%d", k%2)
		s := h.get(id)
		if s.PID == 0 {
			t.Fatalf("%s not running: %+v", id, s)
		}
		killed := time.Now()
		if err := syscall.Kill(s.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		n := h.waitFor(id, 10*time.Second, "restart", func(n InstanceStatus) bool { return n.PID != 0 && n.PID != s.PID })
		lat = append(lat, n.StartedAt.Sub(killed))
		time.Sleep(100 * time.Millisecond) // > stableAfter: the next kill restarts at once too
	}
	flooding := !slices.Contains(lines(h.m, "flood:0"), "flood done")
	slices.Sort(lat)
	t.Logf("restart latency during the flood (still flooding at the end: %v): %v", flooding, lat)
	scale := time.Duration(1)
	if raceEnabled {
		scale = 4
	}
	if med := lat[len(lat)/2]; med > 100*time.Millisecond*scale {
		t.Errorf("median restart %v during a 50 MiB flood, want < 100ms", med)
	}
	if mx := lat[len(lat)-1]; mx > 500*time.Millisecond*scale {
		t.Errorf("slowest restart %v during a 50 MiB flood", mx)
	}
	// (A follower may lose lines under a flood; the ring's tail does not.)
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < 4; i++ {
		for id := fmt.Sprintf("flood:%d", i); !slices.Contains(lines(h.m, id), "flood done"); {
			if time.Now().After(deadline) {
				t.Fatal("the flood did not end within 60s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	h.m.capture.Flush()
	drained := time.Since(t0)
	t.Logf("4 x 50 MiB drained to the log files %v after the flood began", drained)
	// At least 20 MiB/s through to the files: the peers drain this in about
	// a second here; a GC that thrashes under a tight memory limit took 17 s.
	if drained > 10*time.Second && !raceEnabled {
		t.Errorf("200 MiB took %v to reach the log files", drained)
	}
	for i := 0; i < 4; i++ {
		if d := h.get(fmt.Sprintf("flood:%d", i)).LogDropped; d != 0 {
			t.Fatalf("flood:%d: %d lines dropped", i, d)
		}
		b, err := os.ReadFile(fs.Path("flood", i))
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, append(line, '\n')); n != size/100 {
			t.Fatalf("flood:%d: %d of %d lines in the log file", i, n, size/100)
		}
	}
}
