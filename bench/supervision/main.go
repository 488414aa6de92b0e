//go:build linux

// Command supervision benchmarks openim-supervisor against runit, s6 and
// supervisord on the same machine in one run: start-all time, restart
// latency after SIGKILL, the supervisors' own memory (PSS, children
// excluded), idle CPU and stop-all time, for N children of one tiny program
// (the same for every peer). It is not part of the tests; scripts/bench.sh
// installs the peers and runs it as root.
//
// The harness watches the process trees through /proc (children lists,
// exe links) at a short interval; that polling is the measuring
// instrument's, its resolution is given with the results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type result struct {
	peer     string
	n        int
	start    time.Duration
	p50, p95 time.Duration
	kills    int
	pssKiB   int64
	guardKiB int64         // of pssKiB, the guardian's (openim-supervisor)
	idle     time.Duration // CPU over the idle window (only at idleN)
	idleDone bool
	stop     time.Duration
	err      error

	starts, stops []time.Duration // each cycle's, the first included
}

// addCycle adds the start and stop of a start/stop-only cycle. A failed
// cycle fails the result.
func (r *result) addCycle(c result) {
	if c.err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("a later cycle: %w", c.err)
		}
		return
	}
	r.starts = append(r.starts, c.start)
	r.stops = append(r.stops, c.stop)
}

// settle sets start and stop to the medians over the cycles.
func (r *result) settle() {
	if r.err != nil {
		return
	}
	r.starts = append([]time.Duration{r.start}, r.starts...)
	r.stops = append([]time.Duration{r.stop}, r.stops...)
	r.start, r.stop = median(r.starts), median(r.stops)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("supervision", flag.ContinueOnError)
	ns := fs.String("n", "10,100,1000", "child counts")
	peersFlag := fs.String("peers", "openim-supervisor,openim-supervisor-1xN,runit,s6,supervisord", "peers to run")
	kills := fs.Int("kills", 50, "SIGKILLs per peer and N for the restart latency")
	idle := fs.Duration("idle", 20*time.Second, "idle CPU window (at -idle-n)")
	idleN := fs.Int("idle-n", 100, "N at which idle CPU is measured")
	child := fs.String("child", "", "child program (a static binary that pauses forever)")
	bin := fs.String("openim-supervisor", "bin/openim-supervisor", "openim-supervisor binary")
	work := fs.String("dir", "", "work dir (default: a temp dir)")
	md := fs.String("markdown", "", "also write the table as markdown to this file")
	floodChild := fs.String("flood", "", "flood child program (see flood.go); empty: no flood benchmark")
	floodMiB := fs.Int64("flood-mib", 50, "MiB each of the 4 flooding children writes")
	cycles := fs.Int("cycles", 5, "start/stop cycles per peer and N, interleaved; start-all and stop-all are their medians")
	floodRuns := fs.Int("flood-runs", 5, "flood runs per peer, interleaved across the peers (the table gives each run and the median)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cycles < 1 {
		return errors.New("-cycles must be at least 1")
	}
	if *child == "" {
		return errors.New("-child is required")
	}
	childAbs, err := filepath.Abs(*child)
	if err != nil {
		return err
	}
	childAbs, err = filepath.EvalSymlinks(childAbs)
	if err != nil {
		return err
	}
	binAbs, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	var counts []int
	for _, s := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("bad -n %q", s)
		}
		counts = append(counts, n)
	}
	all := map[string]peer{"openim-supervisor": openim{bin: binAbs}, "openim-supervisor-1xN": openim{bin: binAbs, oneProgram: true},
		"runit": runit{}, "s6": s6{}, "supervisord": supervisord{}}
	var peers []peer
	for _, p := range strings.Split(*peersFlag, ",") {
		pe, ok := all[strings.TrimSpace(p)]
		if !ok {
			return fmt.Errorf("unknown peer %q", p)
		}
		peers = append(peers, pe)
	}
	dir := *work
	if dir == "" {
		d, err := os.MkdirTemp("", "bench-supervision-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ev, err := newProcEvents()
	if err != nil {
		fmt.Fprintf(os.Stderr, "restarts timed by polling /proc (slower the more children a supervisor parents): %v\n", err)
		ev = nil
	}
	defer ev.close()

	var results []result
	for _, n := range counts {
		// The first cycle measures everything; the others only start and
		// stop, interleaved across the peers, so that one noisy moment does
		// not decide a start-all or stop-all figure (medians are reported).
		first := len(results)
		for cycle := 1; cycle <= *cycles; cycle++ {
			for i, p := range peers {
				d := filepath.Join(dir, fmt.Sprintf("%s-%d-%d", p.name(), n, cycle))
				fmt.Fprintf(os.Stderr, "== %s N=%d, cycle %d of %d\n", p.name(), n, cycle, *cycles)
				r := measure(ctx, ev, p, d, n, childAbs, *kills, *idle, n == *idleN, cycle == 1)
				if r.err != nil {
					fmt.Fprintf(os.Stderr, "   %s N=%d: %v\n", p.name(), n, r.err)
				} else {
					fmt.Fprintf(os.Stderr, "   start %v restart p50 %v p95 %v pss %d KiB idle %v stop %v\n",
						r.start, r.p50, r.p95, r.pssKiB, r.idle, r.stop)
				}
				if cycle == 1 {
					results = append(results, r)
				} else {
					results[first+i].addCycle(r)
				}
				_ = os.RemoveAll(d)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		for i := first; i < len(results); i++ {
			results[i].settle()
		}
	}
	table := render(results, peers, counts, *idleN, *idle, *cycles)
	if g, err := guardianStart(binAbs, 20); err == nil {
		table += fmt.Sprintf("\nThe guardian's start (openim-supervisor re-executed until it listens), median of 20: %.1f ms\n", ms(g))
	} else {
		fmt.Fprintln(os.Stderr, "guardian start:", err)
	}
	if *floodChild != "" {
		floodAbs, err := filepath.Abs(*floodChild)
		if err != nil {
			return err
		}
		runs := map[string][]floodResult{}
		var order []string
		for run := 1; run <= *floodRuns; run++ {
			for _, p := range peers {
				f, ok := p.(flooder)
				if !ok || p.name() == "openim-supervisor (1 program x N)" {
					continue
				}
				fmt.Fprintf(os.Stderr, "== flood %s, run %d of %d\n", p.name(), run, *floodRuns)
				fdir := filepath.Join(dir, fmt.Sprintf("flood-%s-%d", strings.Fields(p.name())[0], run))
				r := measureFlood(ctx, ev, f, fdir, floodAbs, *floodMiB<<20)
				if r.err != nil {
					fmt.Fprintf(os.Stderr, "   %v\n", r.err)
				} else {
					fmt.Fprintf(os.Stderr, "   drained %v lines %d/%d restarts %v\n", r.drained, r.lines, r.want, r.lat)
					_ = os.RemoveAll(fdir) // 200 MiB or more of logs per run
				}
				if _, seen := runs[p.name()]; !seen {
					order = append(order, p.name())
				}
				runs[p.name()] = append(runs[p.name()], r)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
		var frs [][]floodResult
		for _, name := range order {
			frs = append(frs, runs[name])
		}
		table += renderFlood(frs, *floodMiB<<20)
	}
	fmt.Fprint(out, table)
	if *md != "" {
		return os.WriteFile(*md, []byte(table), 0o644)
	}
	return nil
}

const pollEvery = 20 * time.Microsecond

// measure starts p over n children, and with full measures memory, idle
// CPU and restarts before it stops them; without, it only starts and stops.
func measure(ctx context.Context, ev *procEvents, p peer, dir string, n int, child string, kills int, idle time.Duration, doIdle, full bool) (r result) {
	r = result{peer: p.name(), n: n}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.err = err
		return r
	}
	if err := p.setup(dir, n, child); err != nil {
		r.err = fmt.Errorf("setup: %w", err)
		return r
	}
	cmd := p.command(dir, n)
	logf, err := os.Create(filepath.Join(dir, "supervisor.out"))
	if err != nil {
		r.err = err
		return r
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	sc := newScanner(child)

	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		r.err = fmt.Errorf("start: %w", err)
		return r
	}
	root := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer cleanup(cmd, sc, exited)

	// Start-all: until n children run the child program.
	deadline := t0.Add(2*time.Minute + time.Duration(n)*50*time.Millisecond)
	var tr tree
	for {
		tr = sc.scan(root)
		if len(tr.children) >= n {
			r.start = time.Since(t0)
			break
		}
		select {
		case <-exited:
			r.err = fmt.Errorf("supervisor exited during start (see %s)", logf.Name())
			return r
		case <-ctx.Done():
			r.err = ctx.Err()
			return r
		default:
		}
		if time.Now().After(deadline) {
			r.err = fmt.Errorf("only %d of %d children after %v", len(tr.children), n, time.Since(t0))
			return r
		}
		time.Sleep(time.Millisecond)
	}

	if !full {
		// Let every supervisor finish what follows its children's start.
		time.Sleep(500 * time.Millisecond)
		return stopAll(ctx, p, dir, cmd, sc, root, exited, r)
	}

	// Settle, then memory and (at idleN) idle CPU of the supervisors.
	time.Sleep(2 * time.Second)
	tr = sc.scan(root)
	for _, s := range tr.supervisors {
		v := pss(s)
		r.pssKiB += v
		if isGuardian(s) {
			r.guardKiB += v
		}
	}
	if doIdle {
		before := sumCPU(tr.supervisors)
		select {
		case <-time.After(idle):
		case <-ctx.Done():
			r.err = ctx.Err()
			return r
		}
		r.idle = time.Duration(sumCPU(tr.supervisors) - before)
		r.idleDone = true
	}

	// Restart latency: SIGKILL a child that has run for at least minAge,
	// time until its supervisor runs a new child.
	const minAge = 2 * time.Second
	born := map[int]time.Time{}
	for c := range tr.children {
		born[c] = t0
	}
	var lat []time.Duration
	for k := 0; k < kills; k++ {
		if ctx.Err() != nil {
			r.err = ctx.Err()
			return r
		}
		victim, parent := oldest(tr, born)
		if wait := minAge - time.Since(born[victim]); wait > 0 {
			time.Sleep(wait)
		}
		newPid, l, timed, err := awaitRestart(ev, victim, parent, child)
		if err != nil {
			r.err = err
			return r
		}
		if timed {
			lat = append(lat, l)
		}
		delete(tr.children, victim)
		delete(born, victim)
		sc.forget(victim)
		tr.children[newPid] = parent
		sc.isChild[newPid] = true
		born[newPid] = time.Now()
		time.Sleep(10 * time.Millisecond)
	}
	r.kills = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		r.p50 = lat[len(lat)*50/100]
		r.p95 = lat[min(len(lat)-1, len(lat)*95/100)]
	}

	return stopAll(ctx, p, dir, cmd, sc, root, exited, r)
}

// stopAll measures stop-all: from the stop request until every child has
// exited.
func stopAll(ctx context.Context, p peer, dir string, cmd *exec.Cmd, sc *scanner, root int, exited <-chan struct{}, r result) result {
	tr := sc.scan(root)
	pids := make([]int, 0, len(tr.children))
	for c := range tr.children {
		pids = append(pids, c)
	}
	helpers := seen(tr.supervisors)
	w, err := newExitWatcher(pids)
	if err != nil {
		r.err = err
		return r
	}
	defer w.close()
	ts := time.Now()
	if err := p.stopAll(ctx, dir, cmd.Process); err != nil {
		r.err = fmt.Errorf("stop: %w", err)
		return r
	}
	if err := w.wait(time.Minute); err != nil {
		r.err = fmt.Errorf("stop-all: %w", err)
		return r
	}
	r.stop = time.Since(ts)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
	}
	// Not part of stop-all: the next measurement starts once all of this
	// supervisor's processes are gone.
	if k := awaitGone(helpers, 10*time.Second); k > 0 {
		fmt.Fprintf(os.Stderr, "   %d of its processes were still running 10 s after the stop; killed\n", k)
	}
	return r
}

func sumCPU(pids []int) int64 {
	var s int64
	for _, p := range pids {
		s += cpuNanos(p)
	}
	return s
}

// oldest picks the child born first (ties: lowest pid).
func oldest(tr tree, born map[int]time.Time) (pid, parent int) {
	keys := make([]int, 0, len(tr.children))
	for c := range tr.children {
		keys = append(keys, c)
	}
	sort.Slice(keys, func(i, j int) bool {
		bi, bj := born[keys[i]], born[keys[j]]
		if !bi.Equal(bj) {
			return bi.Before(bj)
		}
		return keys[i] < keys[j]
	})
	return keys[0], tr.children[keys[0]]
}

// cleanup kills whatever of the tree is left.
func cleanup(cmd *exec.Cmd, sc *scanner, exited chan struct{}) {
	select {
	case <-exited:
	default:
		tr := sc.scan(cmd.Process.Pid)
		for _, s := range tr.supervisors {
			syscall.Kill(s, syscall.SIGKILL)
		}
		for c := range tr.children {
			syscall.Kill(c, syscall.SIGKILL)
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}
