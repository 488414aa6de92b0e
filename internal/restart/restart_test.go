package restart

import (
	"errors"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func backoff() config.Backoff {
	return config.Backoff{
		Initial:     config.Duration(100 * time.Millisecond),
		Max:         config.Duration(time.Second),
		StableAfter: config.Duration(10 * time.Second),
		MaxFailures: 5,
		Window:      config.Duration(time.Minute),
		Cooldown:    config.Duration(5 * time.Minute),
	}
}

func TestPolicies(t *testing.T) {
	t.Parallel()
	crash := Outcome{Code: 1, Ran: time.Hour}
	clean := Outcome{Code: 0, Ran: time.Hour}
	killed := Outcome{Code: 137, Signaled: true, Ran: time.Hour}
	startErr := Outcome{StartErr: errors.New("no such file")}
	requested := Outcome{Code: 143, Signaled: true, Requested: true, Ran: time.Hour}
	cases := []struct {
		name    string
		policy  config.RestartPolicy
		out     Outcome
		restart bool
	}{
		{"always/crash", config.RestartAlways, crash, true},
		{"always/clean", config.RestartAlways, clean, true},
		{"always/requested", config.RestartAlways, requested, false},
		{"on-failure/crash", config.RestartOnFailure, crash, true},
		{"on-failure/clean", config.RestartOnFailure, clean, false},
		{"on-failure/killed", config.RestartOnFailure, killed, true},
		{"on-failure/start error", config.RestartOnFailure, startErr, true},
		{"on-failure/requested", config.RestartOnFailure, requested, false},
		{"never/crash", config.RestartNever, crash, false},
		{"never/clean", config.RestartNever, clean, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1000, 0)}
			tr := New(c.policy, backoff(), WithClock(clk.now), WithJitter(func() float64 { return 0.5 }))
			d := tr.Exit(c.out)
			if d.Restart != c.restart {
				t.Fatalf("Restart = %v, want %v (%s)", d.Restart, c.restart, d.Reason)
			}
		})
	}
}

func TestBackoffGrowthAndStableReset(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	b := backoff()
	b.MaxFailures = 100
	tr := New(config.RestartAlways, b, WithClock(clk.now), WithJitter(func() float64 { return 0.5 }))
	quick := Outcome{Code: 1, Ran: 50 * time.Millisecond}
	want := []time.Duration{0, 100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		d := tr.Exit(quick)
		if !d.Restart || d.Failed || d.Delay != w*time.Millisecond {
			t.Fatalf("crash %d: %+v, want delay %v", i, d, w*time.Millisecond)
		}
		clk.advance(time.Second)
	}
	// A stable run: the next restart is immediate, and backoff starts over.
	d := tr.Exit(Outcome{Code: 1, Ran: 10 * time.Second})
	if !d.Restart || d.Delay != 0 {
		t.Fatalf("after stable run: %+v, want immediate restart", d)
	}
	d = tr.Exit(quick)
	if d.Delay != 0 {
		t.Fatalf("first quick crash after stable run: delay %v, want an immediate restart", d.Delay)
	}
	if d = tr.Exit(quick); d.Delay != 100*time.Millisecond {
		t.Fatalf("second quick crash after stable run: delay %v, want 100ms", d.Delay)
	}
}

func TestStartErrorWaitsAtLeastInitial(t *testing.T) {
	t.Parallel()
	tr := New(config.RestartAlways, backoff(), WithJitter(func() float64 { return 0.5 }))
	if d := tr.Exit(Outcome{StartErr: errors.New("no such file")}); !d.Restart || d.Delay != 100*time.Millisecond {
		t.Fatalf("first start error: %+v, want a retry after initial (100ms)", d)
	}
}

func TestTimeToFailMatchesTracker(t *testing.T) {
	t.Parallel()
	for _, b := range []config.Backoff{backoff(), config.Default().Defaults.Backoff} {
		want, ok := TimeToFail(b)
		if !ok {
			t.Fatalf("%+v: never fails", b)
		}
		clk := &fakeClock{t: time.Unix(1000, 0)}
		tr := New(config.RestartAlways, b, WithClock(clk.now), WithJitter(func() float64 { return 0.5 }))
		first := clk.t
		for i := 1; ; i++ {
			d := tr.Exit(Outcome{Code: 255})
			if d.Failed {
				if i != b.MaxFailures {
					t.Fatalf("failed at start %d, want %d (maxFailures)", i, b.MaxFailures)
				}
				break
			}
			clk.advance(d.Delay)
		}
		if got := clk.t.Sub(first); got != want {
			t.Fatalf("failed %v after the first start, TimeToFail says %v", got, want)
		}
	}
	// The figure example.yaml gives for the shipped defaults.
	if d, _ := TimeToFail(config.Default().Defaults.Backoff); d != 91500*time.Millisecond {
		t.Fatalf("TimeToFail(defaults) = %v; update the comment in example.yaml (about 90 s)", d)
	}
	b := backoff()
	b.Window = config.Duration(500 * time.Millisecond) // delays 0, 0.1, 0.2, 0.4 s
	if _, ok := TimeToFail(b); ok {
		t.Fatal("delays longer than the window: TimeToFail says it fails")
	}
}

// Long runs restart at once, but still count: the instance that keeps
// exiting is failed at the MaxFailures-th exit within the window.
func TestLongRunsCountTowardFailed(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	tr := New(config.RestartAlways, backoff(), WithClock(clk.now), WithJitter(func() float64 { return 0.5 }))
	long := Outcome{Code: 1, Ran: 11 * time.Second} // > StableAfter (10s)
	for i := 1; i < 5; i++ {
		if d := tr.Exit(long); !d.Restart || d.Delay != 0 || d.Failed {
			t.Fatalf("exit %d after a long run: %+v, want an immediate restart", i, d)
		}
		clk.advance(11 * time.Second)
	}
	if d := tr.Exit(long); !d.Failed {
		t.Fatalf("5th exit within the window (maxFailures 5): %+v, want failed", d)
	}
}

func TestJitterBounds(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.999999} {
		b := backoff()
		tr := New(config.RestartAlways, b, WithJitter(func() float64 { return r }))
		tr.Exit(Outcome{Code: 1}) // immediate
		d := tr.Exit(Outcome{Code: 1})
		lo, hi := 80*time.Millisecond, 120*time.Millisecond
		if d.Delay < lo || d.Delay > hi {
			t.Fatalf("jitter %v: delay %v outside [%v,%v]", r, d.Delay, lo, hi)
		}
	}
	// At the cap, jitter never exceeds max.
	b := backoff()
	b.MaxFailures = 0
	tr := New(config.RestartAlways, b, WithJitter(func() float64 { return 0.999999 }))
	for i := 0; i < 10; i++ {
		if d := tr.Exit(Outcome{Code: 1}); d.Delay > time.Second {
			t.Fatalf("crash %d: delay %v above max", i, d.Delay)
		}
	}
}

func TestFailedAfterMaxFailuresInWindow(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	tr := New(config.RestartAlways, backoff(), WithClock(clk.now), WithJitter(func() float64 { return 0.5 }))
	quick := Outcome{Code: 2, Ran: time.Millisecond}
	for i := 0; i < 4; i++ {
		if d := tr.Exit(quick); d.Failed {
			t.Fatalf("failure %d: failed too early", i+1)
		}
		clk.advance(time.Second)
	}
	d := tr.Exit(quick)
	if !d.Failed || !d.Restart || d.Delay != 5*time.Minute {
		t.Fatalf("5th failure in window (maxFailures 5): %+v, want failed with 5m cool-down", d)
	}
	// Counters were reset: the retry after the cool-down starts a fresh streak.
	clk.advance(5 * time.Minute)
	if d := tr.Exit(quick); d.Failed || d.Delay != 0 {
		t.Fatalf("after cool-down: %+v, want fresh backoff", d)
	}
}

func TestWindowForgetsOldFailures(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	tr := New(config.RestartAlways, backoff(), WithClock(clk.now), WithJitter(func() float64 { return 0.5 }))
	quick := Outcome{Code: 1, Ran: time.Millisecond}
	for i := 0; i < 20; i++ {
		if d := tr.Exit(quick); d.Failed {
			t.Fatalf("failure %d spaced 20s apart marked failed", i)
		}
		clk.advance(20 * time.Second) // at most 3 in any 1m window
	}
	if n := tr.Failures(); n > 3 {
		t.Fatalf("Failures() = %d, want <= 3 inside the window", n)
	}
}
