//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The flood benchmark: 4 children each write floodBytes of 100-byte lines
// as fast as they can (64 KiB writes) while a 5th is SIGKILLed 5 times
// (1.1 s apart, each after it ran 1.2 s);
// every peer logs to files with its own logger (ours: its file sink;
// runit: svlogd; s6: s6-log; supervisord: its child log files), rotation
// set so that nothing is rotated away. Measured: the time until the last
// byte reached the log files (MiB/s), the lines missing from them, and the
// victim's restart latency.
//
// The flood child (-flood) waits for SIGUSR1, writes its bytes, then
// pauses; with 0 bytes it only pauses (the victim).

type floodResult struct {
	peer       string
	drained    time.Duration
	lines      int64 // flood lines found in the log files
	written    int64 // bytes in the log files (with each logger's own timestamps)
	want       int64
	lat        []time.Duration
	duringKill int // kills issued while the flood was still being drained
	err        error
}

// flooder is a peer that can run the flood setup.
type flooder interface {
	peer
	// setupFlood writes services f0..f3 (flood with n bytes) and v (the victim).
	setupFlood(dir, flood string, n int64) error
	// logFiles lists the log files of flood service i (all rotations).
	logFiles(dir string, i int) []string
}

const floodLine = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\n" // 99 F

func floodServices(flood string, n int64) map[string][]string {
	m := map[string][]string{"v": {flood, "0"}}
	for i := 0; i < 4; i++ {
		m[fmt.Sprintf("f%d", i)] = []string{flood, fmt.Sprint(n)}
	}
	return m
}

func (o openim) setupFlood(dir, flood string, n int64) error {
	for _, d := range []string{"bin", "conf", "logs", "run", "state"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	var procs strings.Builder
	for _, name := range []string{"f0", "f1", "f2", "f3", "v"} {
		args := floodServices(flood, n)[name]
		fmt.Fprintf(&procs, "  - name: %s\n    command: %s\n    args: [%q]\n", name, args[0], args[1])
	}
	return writeOpenIMConfig(dir, procs.String())
}

func (openim) logFiles(dir string, i int) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "logs", fmt.Sprintf("f%d.0.log*", i)))
	return m
}

// runScripts writes runit/s6 service dirs with a run script per service
// and, for the flood services, a log/run with the given logger command.
func runScripts(base string, flood string, n int64, logger string) error {
	for name, args := range floodServices(flood, n) {
		d := filepath.Join(base, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "run"), []byte("#!/bin/sh\nexec "+strings.Join(args, " ")+"\n"), 0o755); err != nil {
			return err
		}
		if name == "v" {
			continue
		}
		ld := filepath.Join(d, "log")
		if err := os.MkdirAll(filepath.Join(ld, "main"), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(ld, "run"), []byte("#!/bin/sh\nexec "+logger+"\n"), 0o755); err != nil {
			return err
		}
	}
	past := time.Now().Add(-time.Minute)
	return os.Chtimes(base, past, past)
}

// svlogd: ISO timestamps, no rotation (s0).
func (runit) setupFlood(dir, flood string, n int64) error {
	if err := runScripts(filepath.Join(dir, "service"), flood, n, "svlogd -tt ./main"); err != nil {
		return err
	}
	for i := 0; i < 4; i++ {
		if err := os.WriteFile(filepath.Join(dir, "service", fmt.Sprintf("f%d", i), "log", "main", "config"), []byte("s0\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (runit) logFiles(dir string, i int) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "service", fmt.Sprintf("f%d", i), "log", "main", "*"))
	return slices.DeleteFunc(m, func(p string) bool {
		b := filepath.Base(p)
		return b == "config" || b == "lock" || b == "state" || b == "newstate"
	})
}

// s6-log: TAI64N timestamps, 100 MB files, 20 kept.
func (s6) setupFlood(dir, flood string, n int64) error {
	return runScripts(filepath.Join(dir, "scan"), flood, n, "s6-log t s100000000 n20 ./main")
}

func (s6) logFiles(dir string, i int) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "scan", fmt.Sprintf("f%d", i), "log", "main", "*"))
	return slices.DeleteFunc(m, func(p string) bool { b := filepath.Base(p); return b == "lock" || b == "state" })
}

// supervisord: child log files without rotation.
func (supervisord) setupFlood(dir, flood string, n int64) error {
	var b strings.Builder
	fmt.Fprintf(&b, "[supervisord]\nnodaemon=true\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\nchildlogdir=%s/logs\n\n", dir, dir, dir)
	for _, name := range []string{"f0", "f1", "f2", "f3", "v"} {
		fmt.Fprintf(&b, "[program:%s]\ncommand=%s\nautorestart=true\nredirect_stderr=true\nstdout_logfile=%s/logs/%s.log\nstdout_logfile_maxbytes=0\n\n",
			name, strings.Join(floodServices(flood, n)[name], " "), dir, name)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "supervisord.conf"), []byte(b.String()), 0o644)
}

func (supervisord) logFiles(dir string, i int) []string {
	return []string{filepath.Join(dir, "logs", fmt.Sprintf("f%d.log", i))}
}

func measureFlood(ctx context.Context, ev *procEvents, p flooder, dir, flood string, n int64) (r floodResult) {
	r = floodResult{peer: p.name(), want: 4 * (n / int64(len(floodLine)))} // a last partial line is not a line
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.err = err
		return r
	}
	if err := p.setupFlood(dir, flood, n); err != nil {
		r.err = fmt.Errorf("setup: %w", err)
		return r
	}
	cmd := p.command(dir, 5)
	logf, err := os.Create(filepath.Join(dir, "supervisor.out"))
	if err != nil {
		r.err = err
		return r
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	sc := newScanner(flood)
	if err := cmd.Start(); err != nil {
		r.err = err
		return r
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer cleanup(cmd, sc, exited)

	// The 5 children, the victim told by its argument. A child just forked
	// may still show its parent's command line, so wait until the victim and
	// the 4 flooders are each told apart: a victim pid of 0 would make the
	// kill below signal the bench's own process group.
	victim, parent := 0, 0
	var flooders []int
	deadline := time.Now().Add(time.Minute)
	for {
		tr := sc.scan(cmd.Process.Pid)
		victim, parent, flooders = 0, 0, flooders[:0]
		for c, par := range tr.children {
			switch {
			case exeOf(c) == flood && isVictim(c):
				victim, parent = c, par
			case exeOf(c) == flood:
				flooders = append(flooders, c)
			}
		}
		if victim > 0 && len(flooders) == 4 {
			break
		}
		if time.Now().After(deadline) {
			r.err = fmt.Errorf("after a minute: victim %d, %d of 4 flooders, %d children", victim, len(flooders), len(tr.children))
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // the victim ran over a second: no peer delays its restart

	t0 := time.Now()
	for _, f := range flooders {
		syscall.Kill(f, syscall.SIGUSR1)
	}
	drainDone := make(chan time.Time, 1)
	go func() { drainDone <- waitQuiet(p, dir, t0, 1500*time.Millisecond, 2*time.Minute) }()
	var drainedAt time.Time
	born := t0.Add(-1500 * time.Millisecond)
	for k := 0; k < 5; k++ {
		// 1.1 s apart, and the victim ran at least 1.2 s: runit (1 s) and
		// supervisord (startsecs=1) would delay a younger one's restart.
		at := t0.Add(50*time.Millisecond + time.Duration(k)*1100*time.Millisecond)
		if b := born.Add(1200 * time.Millisecond); b.After(at) {
			at = b
		}
		time.Sleep(time.Until(at))
		select {
		case drainedAt = <-drainDone:
		default:
		}
		if drainedAt.IsZero() || drainedAt.After(time.Now()) {
			r.duringKill++
		}
		newPid, l, timed, err := awaitRestart(ev, victim, parent, flood)
		if err != nil {
			r.err = fmt.Errorf("the victim did not come back (kill %d of 5): %w; %s", k+1, err, explain(p, dir, parent))
			return r
		}
		if timed {
			r.lat = append(r.lat, l)
		}
		victim, born = newPid, time.Now()
	}
	if drainedAt.IsZero() {
		drainedAt = <-drainDone
	}
	r.drained = drainedAt.Sub(t0)
	for i := 0; i < 4; i++ {
		for _, f := range p.logFiles(dir, i) {
			r.lines += countLines(f)
			if st, err := os.Stat(f); err == nil {
				r.written += st.Size()
			}
		}
	}
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_ = p.stopAll(stopCtx, dir, cmd.Process)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
	}
	return r
}

// isVictim: the flood child started with "0" bytes.
func isVictim(pid int) bool {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	args := bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0})
	return len(args) == 2 && string(args[1]) == "0"
}

// waitQuiet returns when the flood services' log files last grew, once they
// have not grown for quiet (or at limit).
func waitQuiet(p flooder, dir string, t0 time.Time, quiet, limit time.Duration) time.Time {
	var last int64 = -1
	lastChange := t0
	for time.Since(t0) < limit {
		var total int64
		for i := 0; i < 4; i++ {
			for _, f := range p.logFiles(dir, i) {
				if st, err := os.Stat(f); err == nil {
					total += st.Size()
				}
			}
		}
		if total != last {
			last, lastChange = total, time.Now()
		} else if time.Since(lastChange) > quiet {
			return lastChange
		}
		time.Sleep(5 * time.Millisecond)
	}
	return lastChange
}

// countLines counts the flood lines in a log file.
func countLines(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 1<<20)
	var carry []byte
	line := []byte(floodLine)
	for {
		k, err := f.Read(buf)
		data := append(carry, buf[:k]...)
		n += int64(bytes.Count(data, line))
		// keep a tail that may hold the start of a line split by the read
		if len(data) >= len(line) {
			carry = append(carry[:0], data[len(data)-len(line)+1:]...)
		} else {
			carry = append(carry[:0], data...)
		}
		if err == io.EOF || k == 0 {
			return n
		}
	}
}

// renderFlood renders one row per peer from its runs: each run's drain time
// and the MiB/s of the median run; lines lost, kills during the flood and
// the restart latencies (median, max) over all runs; and the bytes each
// logger wrote per line (the line is 100 bytes; ours, svlogd and s6-log add
// a timestamp, supervisord writes the bytes as they came).
func renderFlood(peers [][]floodResult, n int64) string {
	var b strings.Builder
	runs := 0
	if len(peers) > 0 {
		runs = len(peers[0])
	}
	fmt.Fprintf(&b, "\nLog flood: 4 children x %d MiB of 100-byte lines to the log files, while a 5th is SIGKILLed 5 times (1.1 s apart); %d runs per supervisor, interleaved\n\n", n>>20, runs)
	b.WriteString("| supervisor | drained in (s), each run | MiB/s to the files (median run) | bytes written per line | lines lost | restart median (ms) | restart max (ms) | kills during the flood |\n|---|---|---|---|---|---|---|---|\n")
	for _, rs := range peers {
		var failed error
		var each []string
		var drained []time.Duration
		var lat []time.Duration
		var lost, want int64
		during, kills := 0, 0
		var written, lines int64
		for _, r := range rs {
			if r.err != nil {
				failed = r.err
				break
			}
			each = append(each, fmt.Sprintf("%.2f", r.drained.Seconds()))
			drained = append(drained, r.drained)
			lat = append(lat, r.lat...)
			lost, want = lost+r.want-r.lines, want+r.want
			during, kills = during+r.duringKill, kills+len(r.lat)
			written, lines = written+r.written, lines+r.lines
		}
		if failed != nil || len(drained) == 0 || len(lat) == 0 {
			fmt.Fprintf(&b, "| %s | error: %v | | | | | | |\n", rs[0].peer, failed)
			continue
		}
		slices.Sort(drained)
		slices.Sort(lat)
		med := drained[(len(drained)-1)/2]
		mibs := float64(4*n) / (1 << 20) / med.Seconds()
		perLine := "-"
		if lines > 0 {
			perLine = fmt.Sprintf("%.0f", float64(written)/float64(lines))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d of %d | %s | %s | %d of %d |\n", rs[0].peer, strings.Join(each, ", "), num(mibs),
			perLine, lost, want, num(ms(lat[len(lat)/2])), num(ms(lat[len(lat)-1])), during, kills)
	}
	return b.String()
}

// explain says, for a victim that did not come back, what its supervisor
// runs now and, for ours, what `status` says: enough to tell a supervisor
// that did not restart from a restart the harness missed.
func explain(p flooder, dir string, parent int) string {
	var kids []string
	for _, c := range childrenOf(parent) {
		kids = append(kids, fmt.Sprintf("%d %s", c, filepath.Base(exeOf(c))))
	}
	out := fmt.Sprintf("children of %d now: [%s]", parent, strings.Join(kids, ", "))
	if o, ok := p.(openim); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := exec.CommandContext(ctx, o.bin, "status", "--config", filepath.Join(dir, "config.yaml")).CombinedOutput()
		out += fmt.Sprintf("; status (%v):\n%s", err, st)
	}
	return out
}
