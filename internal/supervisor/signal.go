package supervisor

import (
	"context"
	"errors"
	"fmt"
)

// ErrBadSignal is returned (wrapped) by Signal for a name that is no signal.
var ErrBadSignal = errors.New("unknown signal")

// ErrNotStarted is returned (wrapped) by Signal when no selected instance
// has a running child.
var ErrNotStarted = errors.New("not running")

// Signal sends the named signal (HUP, USR1, ...) to the process group of
// every selected instance that has a running child, and reports the ones
// that had none. The child's own handling decides what happens; the
// supervisor changes no state (a signal that ends the child is an exit like
// any other and the restart policy applies).
func (m *Manager) Signal(ctx context.Context, t Target, sig string) error {
	if err := checkSignal(sig); err != nil {
		return fmt.Errorf("signal %q: %w", sig, err)
	}
	insts, err := m.selectTargets(t)
	if err != nil {
		return err
	}
	var errs []error
	sent := 0
	for _, in := range insts {
		err := in.do(ctx, command{kind: cmdSignal, sig: sig})
		switch {
		case errors.Is(err, ErrNotStarted):
			continue
		case err != nil:
			errs = append(errs, err)
		default:
			sent++
		}
	}
	if sent == 0 && len(errs) == 0 {
		return fmt.Errorf("%s: no instance has a running process to signal: %w", t, ErrNotStarted)
	}
	return errors.Join(errs...)
}

// signal handles cmdSignal in the instance goroutine, which owns the child.
func (r *run) signal(c *command) {
	if r.proc == nil || r.proc.Exited() {
		c.reply <- fmt.Errorf("%s: %w", r.in.id, ErrNotStarted)
		return
	}
	if err := r.proc.Signal(c.sig); err != nil {
		c.reply <- fmt.Errorf("%s: %w", r.in.id, err)
		return
	}
	c.reply <- nil
}
