// Package restart is the pure restart decision of one instance: given how a
// run ended, it says whether to start the instance again, after which delay,
// and whether the instance is now "failed".
//
// It owns no goroutine and no timer; the caller sleeps (on a timer that also
// watches its context). Time comes from an injectable clock so the table
// tests run instantly.
package restart

import (
	"math/rand/v2"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// Outcome is how one run of an instance ended.
type Outcome struct {
	// StartErr is set when the process could not be started at all.
	StartErr error
	// Code is the exit code (128+signal when killed by a signal).
	Code int
	// Signaled is true when the process was killed by a signal.
	Signaled bool
	// Ran is how long the process ran.
	Ran time.Duration
	// Requested is true when the supervisor itself stopped the process
	// (stop, restart, reload, shutdown): never restarted by policy.
	Requested bool
}

// Success reports whether the run ended well (exit 0, no signal, started).
func (o Outcome) Success() bool { return o.StartErr == nil && !o.Signaled && o.Code == 0 }

// Decision is what to do after an Outcome.
type Decision struct {
	Restart bool          // start the instance again
	Delay   time.Duration // after this long (0: immediately)
	Failed  bool          // too many failures: the instance is failed; Delay is the cool-down
	Reason  string        // short human explanation
}

// Tracker remembers recent failures of one instance. Not safe for
// concurrent use: one instance goroutine owns it.
type Tracker struct {
	policy  config.RestartPolicy
	backoff config.Backoff
	now     func() time.Time
	jitter  func() float64 // in [0,1)

	attempt  int         // quick crashes since the last stable run
	failures []time.Time // failure times inside the window
}

// Option customises a Tracker (tests).
type Option func(*Tracker)

// WithClock sets the time source.
func WithClock(now func() time.Time) Option { return func(t *Tracker) { t.now = now } }

// WithJitter sets the random source in [0,1); 0.5 means no jitter.
func WithJitter(r func() float64) Option { return func(t *Tracker) { t.jitter = r } }

// JitterFraction is the +- spread applied to backoff delays.
const JitterFraction = 0.2

// New returns a Tracker for the policy and backoff timing.
func New(policy config.RestartPolicy, b config.Backoff, opts ...Option) *Tracker {
	t := &Tracker{policy: policy, backoff: b, now: time.Now, jitter: rand.Float64}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Reset forgets every recorded failure (explicit start by an operator,
// end of a cool-down).
func (t *Tracker) Reset() {
	t.attempt = 0
	t.failures = t.failures[:0]
}

// Failures returns the number of failures currently inside the window.
func (t *Tracker) Failures() int { return len(t.failures) }

// Exit records the outcome of a run and decides what happens next:
//
//   - every exit the supervisor did not ask for (and every start error) is
//     a failure; the MaxFailures-th within Window marks the instance failed:
//     it is retried after Cooldown, with the counters cleared. So "failed"
//     means "MaxFailures exits within Window", whatever their length;
//   - a run of at least StableAfter is restarted at once and ends a streak
//     of quick exits;
//   - a quick exit (a shorter run, or a start error): the first of a streak
//     is restarted at once (a lone crash costs no delay), the k-th after
//     Initial·2^(k-2), capped at Max, ±20 % jitter (a start error waits at
//     least Initial: nothing to gain from spinning on a binary that cannot
//     start).
//
// An instance that exits at once is failed after MaxFailures starts,
// TimeToFail(backoff) after the first (plus its run times).
func (t *Tracker) Exit(o Outcome) Decision {
	if o.Requested {
		return Decision{Reason: "stopped by request"}
	}
	switch t.policy {
	case config.RestartNever:
		return Decision{Reason: "restart policy never"}
	case config.RestartOnFailure:
		if o.Success() {
			return Decision{Reason: "exited 0, restart policy on-failure"}
		}
	}
	t.record(t.now())
	if max := t.backoff.MaxFailures; max > 0 && len(t.failures) >= max {
		// Counters restart from zero once the cool-down is over.
		t.Reset()
		return Decision{Restart: true, Failed: true, Delay: t.backoff.Cooldown.D(),
			Reason: "too many exits in the window; retry after the cool-down"}
	}
	stable := o.StartErr == nil && t.backoff.StableAfter.D() > 0 && o.Ran >= t.backoff.StableAfter.D()
	if stable {
		t.attempt = 0
		return Decision{Restart: true, Reason: "ran stably; immediate restart"}
	}
	d := t.delay(t.attempt)
	if o.StartErr != nil {
		d = max(d, t.backoff.Initial.D())
	}
	t.attempt++
	if d == 0 {
		return Decision{Restart: true, Reason: "first quick exit; immediate restart"}
	}
	return Decision{Restart: true, Delay: d, Reason: "quick exit; backing off"}
}

// TimeToFail is how long after its first start an instance that exits at
// once is marked failed: the sum of the nominal delays (no jitter) before
// its MaxFailures-th start, when they all fit in Window (else it never is:
// 0 and false).
func TimeToFail(b config.Backoff) (time.Duration, bool) {
	if b.MaxFailures < 1 {
		return 0, false
	}
	t := &Tracker{backoff: b, jitter: func() float64 { return 0.5 }}
	var sum time.Duration
	for k := 0; k < b.MaxFailures-1; k++ {
		sum += t.delay(k)
	}
	if w := b.Window.D(); w > 0 && sum >= w {
		return 0, false
	}
	return sum, true
}

func (t *Tracker) record(now time.Time) {
	if w := t.backoff.Window.D(); w > 0 {
		keep := t.failures[:0]
		for _, f := range t.failures {
			if now.Sub(f) < w {
				keep = append(keep, f)
			}
		}
		t.failures = keep
	}
	t.failures = append(t.failures, now)
}

// delay before the restart after the attempt-th quick exit of a streak (0:
// the first): 0, then initial * 2^(attempt-1) capped at max, with ±20 %
// jitter (never above max).
func (t *Tracker) delay(attempt int) time.Duration {
	initial, max := t.backoff.Initial.D(), t.backoff.Max.D()
	if initial <= 0 || attempt == 0 {
		return 0
	}
	d := initial
	for i := 1; i < attempt; i++ {
		d *= 2
		if max > 0 && d >= max {
			d = max
			break
		}
	}
	if max > 0 && d > max {
		d = max
	}
	j := 1 + JitterFraction*(2*t.jitter()-1)
	d = time.Duration(float64(d) * j)
	if max > 0 && d > max {
		d = max
	}
	return d
}
