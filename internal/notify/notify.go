// Package notify speaks systemd's notify protocol for the supervisor:
// READY=1 once every instance is ready, STATUS=<summary> after changes
// (coalesced; during the start it says what is awaited, e.g. "pre-start:
// check-component, attempt 37"), EXTEND_TIMEOUT_USEC while the start
// proceeds within the config's own timeouts (so TimeoutStartSec does not
// kill a slow start that is progressing), WATCHDOG=1 at half the watchdog
// interval but only after the supervision loop answered a ping, and
// STOPPING=1 at shutdown. Without NOTIFY_SOCKET in the environment it does
// nothing.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// Source is what the notifier watches: the supervisor.Manager.
type Source interface {
	Ready() <-chan struct{}
	Snapshot() supervisor.Snapshot
	Ping(ctx context.Context) error
}

// ExtendMargin is added to the config's deadline in EXTEND_TIMEOUT_USEC: the
// supervisor's own timeout ends a stuck step, with its error, before
// systemd's does.
const ExtendMargin = 15 * time.Second

// DefaultMinInterval is the shortest time between two STATUS messages.
const DefaultMinInterval = 500 * time.Millisecond

// Notifier sends notify messages. Create it with New before the Manager (its
// Changed method is the Manager's OnChange), then Run it.
type Notifier struct {
	logger      *slog.Logger
	enabled     bool
	watchdog    time.Duration
	changed     chan struct{}
	minInterval time.Duration
}

// New reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from the environment.
func New(logger *slog.Logger) *Notifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{logger: logger, changed: make(chan struct{}, 1), minInterval: DefaultMinInterval}
	n.enabled = socketSet()
	if n.enabled {
		wd, err := daemon.SdWatchdogEnabled(false)
		if err != nil {
			logger.Warn("ignoring the systemd watchdog settings", "err", err)
		}
		n.watchdog = wd
	}
	return n
}

// Enabled reports whether a notify socket is set.
func (n *Notifier) Enabled() bool { return n.enabled }

// Watchdog is the watchdog interval systemd asked for (0: none).
func (n *Notifier) Watchdog() time.Duration { return n.watchdog }

// SetMinInterval changes the STATUS coalescing interval (tests).
func (n *Notifier) SetMinInterval(d time.Duration) { n.minInterval = d }

// Changed records that the supervisor's state changed. It never blocks.
func (n *Notifier) Changed() {
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

// Run sends READY, STATUS and WATCHDOG messages until ctx ends. Without a
// notify socket it returns at once.
func (n *Notifier) Run(ctx context.Context, src Source) error {
	if !n.enabled {
		return nil
	}
	ready := src.Ready()
	var (
		last       time.Time
		lastMsg    string
		timer      *time.Timer
		timerC     <-chan time.Time
		watchdog   <-chan time.Time
		extendedTo time.Time // systemd's start timeout runs until then (zero: its own)
	)
	if n.watchdog > 0 {
		t := time.NewTicker(n.watchdog / 2)
		defer t.Stop()
		watchdog = t.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	sendStatus := func(prefix string) {
		snap := src.Snapshot()
		msg := "STATUS=" + SummarySnapshot(snap)
		if ready != nil && !snap.Deadline.IsZero() {
			if to := snap.Deadline.Add(ExtendMargin); to.After(extendedTo) {
				extendedTo = to
				prefix += fmt.Sprintf("EXTEND_TIMEOUT_USEC=%d\n", time.Until(to).Microseconds())
			}
		}
		if prefix == "" && msg == lastMsg {
			return
		}
		if err := n.send(prefix + msg); err != nil {
			n.logger.Warn("systemd notify", "err", err)
			return
		}
		last, lastMsg = time.Now(), msg
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ready:
			ready = nil
			sendStatus("READY=1\n")
			n.logger.Info("all instances ready; notified systemd")
		case <-n.changed:
			if timerC != nil {
				continue // a send is already scheduled
			}
			if wait := n.minInterval - time.Since(last); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				timerC = timer.C
				continue
			}
			sendStatus("")
		case <-timerC:
			timerC = nil
			sendStatus("")
		case <-watchdog:
			pctx, cancel := context.WithTimeout(ctx, n.watchdog/2)
			err := src.Ping(pctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				n.logger.Error("supervision loop did not answer; withholding the watchdog ping", "err", err)
				continue
			}
			if err := n.send("WATCHDOG=1"); err != nil {
				n.logger.Warn("systemd watchdog", "err", err)
			}
		}
	}
}

// Extend tells systemd, before Run starts, that the start may take up to d
// more (plus ExtendMargin) and what it waits for: run's version gate, which
// may wait for the databases longer than the unit's TimeoutStartSec, so that
// the gate's own error, not systemd's timeout, ends a start that finds no
// database.
func (n *Notifier) Extend(d time.Duration, status string) {
	if !n.enabled {
		return
	}
	msg := fmt.Sprintf("EXTEND_TIMEOUT_USEC=%d\nSTATUS=%s", (d + ExtendMargin).Microseconds(), status)
	if err := n.send(msg); err != nil {
		n.logger.Warn("systemd notify", "err", err)
	}
}

// Stopping tells systemd the supervisor is shutting down.
func (n *Notifier) Stopping() {
	if !n.enabled {
		return
	}
	if err := n.send("STOPPING=1\nSTATUS=stopping"); err != nil {
		n.logger.Warn("systemd notify", "err", err)
	}
}

// send writes one notify message.
func (n *Notifier) send(state string) error {
	ok, err := daemon.SdNotify(false, state)
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	if !ok {
		return fmt.Errorf("sd_notify: NOTIFY_SOCKET is not set")
	}
	return nil
}

// SummarySnapshot is the one-line state of the supervisor: what the start
// waits for while it runs ("pre-start: check-component, attempt 37",
// "starting: 20/26 ready"), then Summary.
func SummarySnapshot(s supervisor.Snapshot) string {
	switch s.Phase {
	case supervisor.PhasePreStart, supervisor.PhaseStarting:
		if s.Detail != "" {
			return s.Detail
		}
	case supervisor.PhaseFailed, supervisor.PhaseStopping, supervisor.PhaseStopped:
		if s.Detail != "" {
			return string(s.Phase) + ": " + s.Detail
		}
		return string(s.Phase)
	}
	return Summary(s.Instances)
}

// Summary is the one-line state of the process set, e.g.
// "24/24 running, 0 failed, 3 restarts".
func Summary(st []supervisor.InstanceStatus) string {
	running, failed, restarts := 0, 0, 0
	for _, s := range st {
		switch s.State {
		case supervisor.StateRunning:
			running++
		case supervisor.StateFailed:
			failed++
		}
		restarts += s.Restarts
	}
	return fmt.Sprintf("%d/%d running, %d failed, %d restarts", running, len(st), failed, restarts)
}
