package upgrade

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

func ids(steps []migrations.Step) string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.ID()
	}
	return strings.Join(out, ",")
}

func source(steps ...migrations.Step) []migrations.Source {
	return []migrations.Source{migrations.NewSource("test", steps...)}
}

func checkState(t *testing.T, state, binary string, steps ...migrations.Step) error {
	t.Helper()
	o := Options{OpenIMVersion: binary, StateDir: state, OpenIMConfigDir: t.TempDir()}
	if steps != nil {
		o.Sources = source(steps...)
	}
	return Check(context.Background(), o)
}

// TestPlan: the plan for each supported source, with nothing configured
// (estimates fail softly; nothing is changed).
func TestPlan(t *testing.T) {
	t.Parallel()
	all := "3.5.0/indexes,3.5.0/mysql-to-mongo,3.8.0/indexes,3.8.0/redis-seq-to-mongo,3.8.3/indexes,3.8.3/log-app-framework"
	cases := []struct{ from, want string }{
		{"3.4.2", all},
		{"v3.4.0", all},
		{"3.5.0", "3.8.0/indexes,3.8.0/redis-seq-to-mongo,3.8.3/indexes,3.8.3/log-app-framework"},
		{"3.7.1-1", "3.8.0/indexes,3.8.0/redis-seq-to-mongo,3.8.3/indexes,3.8.3/log-app-framework"},
		{"3.7.0", "3.8.0/indexes,3.8.0/redis-seq-to-mongo,3.8.3/indexes,3.8.3/log-app-framework"},
		{"3.8.3", ""},
		{"3.8.3-patch.16", ""},
	}
	for _, c := range cases {
		state := t.TempDir()
		var out bytes.Buffer
		res, err := Run(context.Background(), Options{OpenIMVersion: "3.8.3", From: c.from, PlanOnly: true,
			StateDir: state, OpenIMConfigDir: t.TempDir(), Out: &out})
		if err != nil {
			t.Fatalf("--from %s: %v", c.from, err)
		}
		if got := ids(res.Plan.Steps); got != c.want {
			t.Errorf("--from %s: plan %q, want %q", c.from, got, c.want)
		}
		if c.want == "" && !strings.Contains(out.String(), "nothing to do") {
			t.Errorf("--from %s: output does not say nothing to do:\n%s", c.from, out.String())
		}
		// The MySQL time-zone line belongs to plans that read MySQL (the 3.5.0 step) only.
		readsMySQL := strings.Contains(c.want, "3.5.0/mysql-to-mongo")
		if got := strings.Contains(out.String(), "time zone UTC"); got != readsMySQL {
			t.Errorf("--from %s: plan names the MySQL time zone = %v, want %v:\n%s", c.from, got, readsMySQL, out.String())
		}
		if _, err := os.Stat(StatePath(state)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("--from %s: --plan wrote a state record", c.from)
		}
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct{ from, to, want string }{
		{"3.9.0", "", "downgrade"},
		{"4.0.0", "", "downgrade"},
		{"2.3.9", "", "older than the oldest supported"},
		{"3.3.0", "", "older than the oldest supported"},
		{"3.4.2", "3.9.1", "newer than the OpenIM version this binary ships"},
		{"3.4.2", "3.6.9", "not an OpenIM release this binary knows"},
		{"3.8.0", "3.5.0", "downgrade"},
		{"banana", "", "--from"},
	}
	for _, c := range cases {
		for _, plan := range []bool{true, false} {
			_, err := Run(context.Background(), Options{OpenIMVersion: "3.8.3", From: c.from, To: c.to, PlanOnly: plan, Yes: true,
				StateDir: t.TempDir(), OpenIMConfigDir: t.TempDir()})
			var re *RefusedError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("--from %s --to %s (plan=%v): got %v, want refusal containing %q", c.from, c.to, plan, err, c.want)
			}
		}
	}
	// No state, no --from, no Mongo: refused with advice to pass --from.
	_, err := Run(context.Background(), Options{OpenIMVersion: "3.8.3", Yes: true, StateDir: t.TempDir(), OpenIMConfigDir: t.TempDir()})
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "--from") {
		t.Errorf("no source: got %v", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := checkState(t, dir, "3.8.3"); err != nil {
		t.Fatalf("fresh install: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "upgrade")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Check wrote to a fresh state dir")
	}
	for _, c := range []struct {
		data string
		done []string
		want string // "" ok, "refused", "pending"
	}{
		{"3.8.3", nil, ""},
		{"3.9.0", nil, "refused"},
		{"3.7.1", nil, "pending"},
		{"3.7.1", []string{"3.8.0/indexes"}, "pending"},
		{"3.7.1", []string{"3.8.0/indexes", "3.8.0/redis-seq-to-mongo", "3.8.3/indexes", "3.8.3/log-app-framework"}, ""},
		{"3.8.0", nil, "pending"},
		{"3.8.0", []string{"3.8.3/indexes", "3.8.3/log-app-framework"}, ""},
	} {
		st := &State{DataVersion: c.data, Done: c.done}
		if err := st.Save(dir); err != nil {
			t.Fatal(err)
		}
		err := checkState(t, dir, "3.8.3")
		var re *RefusedError
		switch c.want {
		case "":
			if err != nil {
				t.Errorf("data %s done %v: %v", c.data, c.done, err)
			}
		case "refused":
			if !errors.As(err, &re) {
				t.Errorf("data %s: got %v, want refusal", c.data, err)
			}
		case "pending":
			if !errors.Is(err, ErrPending) || !strings.Contains(err.Error(), "openim-supervisor upgrade") {
				t.Errorf("data %s: got %v, want pending", c.data, err)
			}
		}
	}
}

// TestNoDatabaseStep: a plan whose steps need no database runs with no
// database configured or reachable, records history, and a failing step is
// not marked done (the pkgtest step of the packaging tests works this way).
func TestNoDatabaseStep(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	fail := true
	runs := 0
	steps := []migrations.Step{{Version: "3.8.4", Name: "local", Kind: migrations.KindTest, Description: "no database",
		Run: func(context.Context, *migrations.Env) (migrations.Counts, error) {
			runs++
			if fail {
				return nil, errors.New("boom")
			}
			return migrations.Counts{{Table: "x", Source: 1, Written: 1, InTarget: 1}}, nil
		}}}
	o := Options{OpenIMVersion: "3.8.4", From: "3.8.3-1", Yes: true, StateDir: state,
		OpenIMConfigDir: filepath.Join(t.TempDir(), "absent"), Sources: source(steps...)}
	_, err := Run(context.Background(), o)
	var se *StepError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "re-run") || !strings.Contains(err.Error(), "upgrade.log") {
		t.Fatalf("failing step: %v", err)
	}
	if err := checkState(t, state, "3.8.4", steps...); !errors.Is(err, ErrPending) {
		t.Fatalf("Check after failed step: %v", err)
	}
	fail = false
	o.From = "" // the state record now knows 3.8.3
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("third run: %v", err)
	}
	if runs != 2 {
		t.Errorf("step ran %d times, want 2 (failed once, then done once)", runs)
	}
	st, _, err := LoadState(state)
	if err != nil {
		t.Fatal(err)
	}
	if st.DataVersion != "3.8.4" || len(st.History) != 2 || st.History[0].Result != ResultFailed || st.History[1].Result != ResultDone {
		t.Errorf("state: %+v", st)
	}
	if err := checkState(t, state, "3.8.4", steps...); err != nil {
		t.Errorf("Check after upgrade: %v", err)
	}
	if err := checkState(t, state, "3.8.3", steps...); err == nil {
		t.Errorf("Check with an older binary passed")
	}
}

func TestNeedsConfirmation(t *testing.T) {
	t.Parallel()
	_, err := Run(context.Background(), Options{OpenIMVersion: "3.8.3", From: "3.7.0", StateDir: t.TempDir(), OpenIMConfigDir: t.TempDir()})
	if !errors.Is(err, ErrNeedConfirm) {
		t.Fatalf("got %v", err)
	}
}
