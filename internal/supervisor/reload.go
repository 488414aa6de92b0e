package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// reloadPlan is what a reload does, by instance ID: a pure function of the
// old and the new instance lists (planReload).
type reloadPlan struct {
	added     []config.Instance // started, in config order
	removed   []string          // stopped and forgotten
	changed   []config.Instance // restarted with the new settings, in config order
	unchanged int               // left running untouched
	order     []string          // every ID of the new config, in its order
}

// planReload compares two instance lists (config.Instance.Equal decides
// "changed").
func planReload(old, next []config.Instance) (reloadPlan, error) {
	var p reloadPlan
	oldByID := make(map[string]config.Instance, len(old))
	for _, ci := range old {
		oldByID[ci.ID()] = ci
	}
	seen := make(map[string]bool, len(next))
	for _, ci := range next {
		id := ci.ID()
		if seen[id] {
			return reloadPlan{}, fmt.Errorf("reload: duplicate instance %s", id)
		}
		seen[id] = true
		p.order = append(p.order, id)
		prev, ok := oldByID[id]
		switch {
		case !ok:
			p.added = append(p.added, ci)
		case !prev.Equal(ci):
			p.changed = append(p.changed, ci)
		default:
			p.unchanged++
		}
	}
	for _, ci := range old {
		if !seen[ci.ID()] {
			p.removed = append(p.removed, ci.ID())
		}
	}
	return p, nil
}

func (p reloadPlan) result(rolling bool) ReloadResult {
	r := ReloadResult{Removed: append([]string{}, p.removed...), Unchanged: p.unchanged, Rolling: rolling,
		Added: []string{}, Changed: []string{}}
	for _, ci := range p.added {
		r.Added = append(r.Added, ci.ID())
	}
	for _, ci := range p.changed {
		r.Changed = append(r.Changed, ci.ID())
	}
	return r
}

// Reload is ReloadWith with the default options (rolling).
func (m *Manager) Reload(ctx context.Context, cfg *config.Config) (ReloadResult, error) {
	return m.ReloadWith(ctx, cfg, ReloadOptions{})
}

// ReloadWith applies a new (already loaded and validated) config: instances
// whose ID disappeared are stopped, new ones started, changed ones
// (config.Instance.Equal) restarted with the new settings; the others keep
// running untouched. Changed instances restart one at a time, each ready
// before the next (an env-file edit changes every instance: it must not
// stop them all at once), unless o.AllAtOnce. An instance stopped by the
// operator only takes the new settings. The result is logged.
func (m *Manager) ReloadWith(ctx context.Context, cfg *config.Config, o ReloadOptions) (ReloadResult, error) {
	if cfg == nil {
		return ReloadResult{}, errors.New("reload: nil config")
	}
	next := cfg.Instances()
	m.opMu.Lock()
	defer m.opMu.Unlock()
	old, err := m.runningInstances()
	if err != nil {
		return ReloadResult{}, err
	}
	oldSpecs := make([]config.Instance, len(old))
	byID := make(map[string]*instance, len(old))
	for i, in := range old {
		oldSpecs[i] = in.spec
		byID[in.id] = in
	}
	plan, err := planReload(oldSpecs, next)
	if err != nil {
		return ReloadResult{}, err
	}
	res := plan.result(!o.AllAtOnce)
	start := time.Now()
	err = m.apply(ctx, cfg, plan, byID, o)
	if err != nil {
		m.log.Error("reload: not every change applied", "err", err, "added", res.Added, "removed", res.Removed,
			"changed", res.Changed, "rolling", res.Rolling)
		return res, err
	}
	m.log.Info("reloaded", "added", res.Added, "removed", res.Removed, "changed", res.Changed,
		"unchanged", res.Unchanged, "rolling", res.Rolling, "elapsed", time.Since(start).Round(time.Millisecond))
	return res, nil
}

// apply carries out a plan (opMu held).
func (m *Manager) apply(ctx context.Context, cfg *config.Config, plan reloadPlan, byID map[string]*instance, o ReloadOptions) error {
	var errs []error
	// What goes away stops first.
	var removed []*instance
	for _, id := range plan.removed {
		removed = append(removed, byID[id])
	}
	if err := stopSegments(ctx, removed, o.Progress); err != nil {
		errs = append(errs, err)
	}
	m.capture.Flush()
	for _, in := range removed {
		in.quit()
		m.gate.forget(in)
		m.ring.Forget(in.id)
		if c, ok := m.output.(interface{ CloseInstance(string, int) }); ok {
			c.CloseInstance(in.spec.Process, in.spec.Index) // e.g. the FileSink's open file
		}
	}

	// Changed: rolling or all at once. One the operator stopped only takes
	// the new settings.
	newSpec := make(map[string]config.Instance, len(plan.changed))
	var restart []*instance
	for _, ci := range plan.changed {
		in := byID[ci.ID()]
		newSpec[in.id] = ci
		if in.status().State == StateStopped {
			if err := in.do(ctx, command{kind: cmdSetSpec, spec: ci}); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		restart = append(restart, in)
	}
	setSpec := func(in *instance) error { return in.do(ctx, command{kind: cmdSetSpec, spec: newSpec[in.id]}) }
	if o.AllAtOnce {
		if err := stopSegments(ctx, restart, o.Progress); err != nil {
			errs = append(errs, err)
		}
		for _, in := range restart {
			if err := setSpec(in); err != nil {
				errs = append(errs, err)
			}
		}
		// With the new settings: the segments are the new config's.
		if err := startSegments(ctx, restart, o.Progress, nil); err != nil {
			errs = append(errs, err)
		}
	} else if err := rolling(ctx, restart, o.Progress, setSpec); err != nil {
		errs = append(errs, err)
	}

	// The new list, in the new config's order.
	var added []*instance
	list := make([]*instance, 0, len(plan.order))
	addedByID := map[string]*instance{}
	for _, ci := range plan.added {
		in := m.newInstance(cfg, ci)
		added = append(added, in)
		addedByID[ci.ID()] = in
	}
	for _, id := range plan.order {
		if in := byID[id]; in != nil {
			list = append(list, in)
		} else {
			list = append(list, addedByID[id])
		}
	}
	m.mu.Lock()
	m.cfg = cfg
	m.insts = list
	for _, in := range added {
		m.gate.wait(in)
		m.spawn(in)
	}
	m.mu.Unlock()
	m.notify()
	if err := startSegments(ctx, added, o.Progress, nil); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
