package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// segments splits instances (config order) after each process marked
// Barrier: the instances of a segment start together, and a segment starts
// once every instance of the ones before it replied (ready, or failed).
func segments(insts []*instance) [][]*instance {
	var out [][]*instance
	start := 0
	for i, in := range insts {
		last := i+1 == len(insts) || insts[i+1].name != in.name
		if last && in.spec.Barrier && i+1 < len(insts) {
			out = append(out, insts[start:i+1])
			start = i + 1
		}
	}
	if start < len(insts) {
		out = append(out, insts[start:])
	}
	return out
}

// readyBudget is how long a segment may take by the config: the longest
// Ready.After + Ready.Timeout of its instances.
func readyBudget(seg []*instance) time.Duration {
	var d time.Duration
	for _, in := range seg {
		t := in.spec.Ready.Timeout
		if t <= 0 {
			t = DefaultReadyTimeout
		}
		if !in.spec.Ready.HasCheck() {
			t = 0
		}
		d = max(d, in.spec.Ready.After+t)
	}
	return d
}

// startSegments starts segment after segment; onSegment (may be nil) is
// told each segment's deadline by the config's ready timeouts.
func startSegments(ctx context.Context, insts []*instance, progress Progress, onSegment func(deadline time.Time)) error {
	var errs []error
	for _, seg := range segments(insts) {
		if onSegment != nil {
			onSegment(time.Now().Add(readyBudget(seg)))
		}
		if err := parallel(ctx, seg, cmdStart, progress); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

// stopSegments stops in reverse: the last segment first, each segment's
// instances at once.
func stopSegments(ctx context.Context, insts []*instance, progress Progress) error {
	segs := segments(insts)
	var errs []error
	for i := len(segs) - 1; i >= 0; i-- {
		if err := parallel(ctx, segs[i], cmdStop, progress); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// parallel sends one command to every instance of g, then collects the
// replies: the instances work at the same time without a goroutine each.
func parallel(ctx context.Context, g []*instance, kind cmdKind, progress Progress) error {
	before, after := StepStarting, StepReady
	if kind == cmdStop {
		before, after = StepStopping, StepStopped
	}
	replies := make([]chan error, len(g))
	for i, in := range g {
		replies[i] = make(chan error, 1)
		report(progress, in, before, nil)
		if err := in.send(ctx, &command{kind: kind, reply: replies[i]}); err != nil {
			replies[i] <- err
		}
	}
	var errs []error
	for i, r := range replies {
		select {
		case err := <-r:
			if err != nil {
				errs = append(errs, err)
				report(progress, g[i], StepFailed, err)
			} else {
				report(progress, g[i], after, nil)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

// rolling restarts insts one at a time: each is stopped, started (with
// setSpec first, when given) and ready before the next is touched. It stops
// at the first instance that does not become ready.
func rolling(ctx context.Context, insts []*instance, progress Progress, setSpec func(*instance) error) error {
	for _, in := range insts {
		report(progress, in, StepStopping, nil)
		if err := in.do(ctx, command{kind: cmdStop}); err != nil {
			report(progress, in, StepFailed, err)
			return fmt.Errorf("rolling restart stopped at %s: %w", in.id, err)
		}
		report(progress, in, StepStopped, nil)
		if setSpec != nil {
			if err := setSpec(in); err != nil {
				return err
			}
		}
		report(progress, in, StepStarting, nil)
		if err := in.do(ctx, command{kind: cmdStart}); err != nil {
			report(progress, in, StepFailed, err)
			return fmt.Errorf("rolling restart stopped at %s: %w", in.id, err)
		}
		report(progress, in, StepReady, nil)
	}
	return nil
}

func report(p Progress, in *instance, step Step, err error) {
	if p == nil {
		return
	}
	e := Event{Time: time.Now(), Instance: in.id, Step: step}
	if err != nil {
		e.Err = err.Error()
	}
	p(e)
}
