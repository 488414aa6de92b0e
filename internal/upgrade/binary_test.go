package upgrade

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// These tests run the real openim-supervisor binary as a subprocess.

func buildBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "openim-supervisor")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/openim-supervisor")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build openim-supervisor: %v\n%s", err, b)
	}
	return bin
}

// supervisorConfig writes a minimal supervisor config whose paths point at
// the test's dirs.
func supervisorConfig(t *testing.T, openimDir, stateDir string) string {
	t.Helper()
	d := t.TempDir()
	for _, sub := range []string{"bin", "log", "run"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(d, "config.yaml")
	body := fmt.Sprintf(`version: 2
paths:
  binDir: %s/bin
  openimConfigDir: %s
  logDir: %s/log
  runtimeDir: %s/run
  stateDir: %s
processes:
  - name: placeholder
    command: /bin/sleep
    args: ["60"]
`, d, openimDir, d, d, stateDir)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seedLarge adds generated rows so the data step takes many batches.
func seedLarge(t *testing.T, s *servers, n int) {
	t.Helper()
	stmts := []string{
		fmt.Sprintf("INSERT INTO users SELECT CONCAT('gen', LPAD(seq, 6, '0')), CONCAT('name ', seq), '', '', '2023-01-01' + INTERVAL seq SECOND, 1, seq %% 3 FROM seq_1_to_%d", n),
		fmt.Sprintf("INSERT INTO group_members SELECT CONCAT('gg', seq %% 17), CONCAT('gen', LPAD(seq, 6, '0')), '', '', 20, '2023-02-01' + INTERVAL seq MINUTE, 2, '', '', NULL, '' FROM seq_1_to_%d", n),
		fmt.Sprintf("INSERT INTO friends SELECT CONCAT('gen', LPAD(seq, 6, '0')), 'u1', '', '2023-03-01', 1, '', '' FROM seq_1_to_%d", n/3),
		fmt.Sprintf("INSERT INTO signal_invitation SELECT CONCAT('gen', seq %% 50), CONCAT('sid', seq %% 40), 0, '2023-04-01' + INTERVAL seq SECOND, NULL FROM seq_1_to_%d", n/5),
		fmt.Sprintf("INSERT INTO meeting_video_record SELECT CONCAT('room', seq %% 30), CONCAT('http://f/', seq %% 70), '2023-05-01' + INTERVAL (seq %% 90) DAY FROM seq_1_to_%d", n/5),
	}
	for _, q := range stmts {
		if _, err := s.mysqlDB.Exec(q); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
	ctx := context.Background()
	pipe := s.redis.Pipeline()
	for i := range n / 8 {
		pipe.Set(ctx, fmt.Sprintf("MAX_SEQ:sg_c%d", i), 100+i, 0)
		pipe.Set(ctx, fmt.Sprintf("HAS_READ_SEQ:gen%06d:sg_c%d", i, i%100), i, 0)
		if i%10 == 0 {
			pipe.Set(ctx, fmt.Sprintf("CON_USER_MIN_SEQ:sg_c%du:gen%06d", i%100, i), 3, 0)
			pipe.Set(ctx, fmt.Sprintf("MIN_SEQ:sg_c%d", i), 2, 0)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// dumpTargets returns every migrated collection and marker, canonical and sorted.
func dumpTargets(t *testing.T, db *mongo.Database) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	colls := []string{"user", "friend", "friend_request", "black", "group", "group_member", "group_request", "conversation",
		"s3", "log", "signal", "signal_invitation", "meeting", "meeting_invitation", "meeting_record", "seq", "seq_user",
		"dataver", "data_version"}
	for _, c := range colls {
		cur, err := db.Collection(c).Find(context.Background(), bson.D{}, options.Find().SetProjection(bson.M{"_id": 0}))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for cur.Next(context.Background()) {
			var m map[string]any
			if err := bson.Unmarshal(cur.Current, &m); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(m) // map keys sorted: canonical
			lines = append(lines, string(b))
		}
		cur.Close(context.Background())
		slices.Sort(lines)
		out[c] = lines
	}
	return out
}

func compareDumps(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for c, w := range want {
		g := got[c]
		if len(g) != len(w) {
			t.Errorf("%s: %d documents, uninterrupted run has %d", c, len(g), len(w))
			continue
		}
		for i := range w {
			if g[i] != w[i] {
				t.Errorf("%s: document %d differs:\n got %s\nwant %s", c, i, g[i], w[i])
				break
			}
		}
	}
}

type binRun struct {
	bin, config string
	env         []string
}

func (b binRun) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(b.bin, append([]string{"--config", b.config, "upgrade"}, args...)...)
	cmd.Env = append(os.Environ(), b.env...)
	return cmd
}

// TestKillAndRerun kills the real binary (SIGKILL) at random points of a
// 3.4 -> 3.8.3 upgrade at least 20 times, then re-runs it to the end, and
// compares every migrated document with an uninterrupted run's.
func TestKillAndRerun(t *testing.T) {
	t.Parallel()
	s := newServers(t, true, true)
	s.loadSQL(t, "testdata/openim34.sql")
	s.loadSQL(t, "testdata/seed34.sql")
	seedLarge(t, s, 3000)
	bin := buildBinary(t)
	args := []string{"--from", "3.4.2", "--yes", "--batch-size", "40"}

	// Uninterrupted reference run into its own Mongo database.
	refDir := s.openimDir(t, true)
	refDB := s.mongoName + "_ref"
	t.Cleanup(func() { _ = s.mongo.Client().Database(refDB).Drop(context.Background()) })
	ref := binRun{bin: bin, config: supervisorConfig(t, refDir, t.TempDir()), env: []string{"IMENV_MONGODB_DATABASE=" + refDB}}
	t0 := time.Now()
	refLog := filepath.Join(t.TempDir(), "reference.log")
	if os.Getenv("OPENIM_TEST_KEEP_LOG") != "" {
		refLog = os.Getenv("OPENIM_TEST_KEEP_LOG")
	}
	lf, err := os.Create(refLog)
	if err != nil {
		t.Fatal(err)
	}
	rc := ref.cmd(args...)
	rc.Stdout, rc.Stderr = lf, lf
	err = rc.Run()
	lf.Close()
	if err != nil {
		b, _ := os.ReadFile(refLog)
		t.Fatalf("reference run: %v\n%s", err, b)
	}
	took := time.Since(t0)
	want := dumpTargets(t, s.mongo.Client().Database(refDB))
	if len(want["user"]) != 3003 || len(want["seq"]) == 0 {
		t.Fatalf("reference run migrated %d users, %d seqs", len(want["user"]), len(want["seq"]))
	}
	t.Logf("uninterrupted run: %s", took)

	// Interrupted runs into the test's database, with a state dir of their
	// own. Each run is SIGKILLed after a random delay within the length of
	// an uninterrupted run; when a run finishes before its kill, the result
	// is compared and the target reset, so that kills keep landing all over
	// the upgrade (backup, index steps, copy, verify, marks), not only at
	// its end.
	state := t.TempDir()
	run := binRun{bin: bin, config: supervisorConfig(t, s.openimDir(t, true), state)}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	check := func(what string) {
		t.Helper()
		compareDumps(t, dumpTargets(t, s.mongo), want)
		st, _, err := LoadState(state)
		if err != nil || st.DataVersion != "3.8.3" {
			t.Fatalf("%s: state: %+v %v", what, st, err)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	// A run from a reset target that finishes before its kill shortens the
	// window: the reference run may have been slowed by other load (CI saw
	// it take 19.6 s, then full runs of 3 s, so that 65 of 80 kills came
	// after the end).
	kills, rounds, fresh := 0, 0, true
	for attempt := 0; kills < 20 && attempt < 80; attempt++ {
		began := time.Now()
		cmd := run.cmd(args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		delay := time.Duration(rng.Int64N(int64(took)))
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d exited before the kill: %v\n%s", attempt, err, out.String())
			}
			rounds++
			if d := time.Since(began); fresh && d < took {
				took = d
			}
			fresh = true
			t.Logf("run %d finished before its kill at %s: compare, reset (kills now within %s)", attempt, delay.Round(time.Millisecond), took.Round(time.Millisecond))
			check(fmt.Sprintf("round %d", rounds))
			if err := s.mongo.Drop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(state, "upgrade")); err != nil {
				t.Fatal(err)
			}
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
			fresh = false
			t.Logf("kill %d after %s", kills, delay.Round(time.Millisecond))
		}
	}
	if kills < 20 {
		t.Fatalf("only %d kills", kills)
	}
	if out, err := run.cmd(args...).CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	check("final")
	t.Logf("%d kills, %d completed rounds compared before the final one", kills, rounds)
}

// TestConcurrentUpgrades starts two upgrades (two "hosts": separate state
// dirs) against one MongoDB at once: exactly one runs each step, the other
// waits for the lease and finds it done.
func TestConcurrentUpgrades(t *testing.T) {
	t.Parallel()
	s := newServers(t, true, true)
	s.loadSQL(t, "testdata/openim34.sql")
	s.loadSQL(t, "testdata/seed34.sql")
	seedLarge(t, s, 1000)
	bin := buildBinary(t)
	dir := s.openimDir(t, true)
	states := []string{t.TempDir(), t.TempDir()}
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, st := range states {
		r := binRun{bin: bin, config: supervisorConfig(t, dir, st)}
		c := r.cmd("--from", "3.4.2", "--yes", "--batch-size", "100")
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		cmds, outs = append(cmds, c), append(outs, &out)
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("upgrade %d: %v\n%s", i, err, outs[i])
		}
	}
	ran := map[string]int{}
	for i, st := range states {
		s, _, err := LoadState(st)
		if err != nil {
			t.Fatal(err)
		}
		if s.DataVersion != "3.8.3" {
			t.Errorf("host %d: data version %s", i, s.DataVersion)
		}
		for _, r := range s.History {
			switch r.Result {
			case ResultDone:
				ran[r.Step]++
			case ResultApplied:
			default:
				t.Errorf("host %d: %s %s %s", i, r.Step, r.Result, r.Error)
			}
		}
	}
	for _, id := range []string{"3.5.0/indexes", "3.5.0/mysql-to-mongo", "3.8.0/indexes", "3.8.0/redis-seq-to-mongo", "3.8.3/indexes", "3.8.3/log-app-framework"} {
		if ran[id] != 1 {
			t.Errorf("step %s ran %d times, want exactly once\n%s\n%s", id, ran[id], outs[0], outs[1])
		}
	}
	if !strings.Contains(outs[0].String()+outs[1].String(), "waiting for the upgrade lease") {
		t.Errorf("neither run waited for the lease:\n%s\n%s", outs[0], outs[1])
	}
}
