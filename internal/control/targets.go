package control

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/internal/suggest"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// Target specs a request may carry: "all", NAME, NAME:INDEX, or a glob of
// names ("openim-rpc-*", "openim-push:3" after a glob works too:
// "openim-m*:0"). A glob is matched by path.Match against the process names.

// isGlob reports whether a spec's name part is a pattern.
func isGlob(name string) bool { return strings.ContainsAny(name, "*?[") }

// specs returns the request's target specs: Targets, else the single Target.
func (r Request) specs() []string {
	if len(r.Targets) > 0 {
		return r.Targets
	}
	if r.Target != "" {
		return []string{r.Target}
	}
	return nil
}

// selectTargets turns specs into concrete targets (no globs), checked
// against the current process set and sorted in config order; a target
// that selects nothing is a not_found error with the nearest names.
func selectTargets(specs []string, all []supervisor.InstanceStatus) ([]supervisor.Target, error) {
	if len(specs) == 0 {
		return nil, &RemoteError{Code: CodeBadRequest, Msg: "missing target: want all, NAME, NAME:INDEX or a glob like 'openim-rpc-*'"}
	}
	order := map[string]int{} // process name -> position of its first instance
	count := map[string]int{}
	var names []string
	for i, st := range all {
		if _, ok := order[st.Name]; !ok {
			order[st.Name] = i
			names = append(names, st.Name)
		}
		count[st.Name]++
	}
	var out []supervisor.Target
	seen := map[string]bool{}
	add := func(t supervisor.Target) {
		if !seen[t.String()] {
			seen[t.String()] = true
			out = append(out, t)
		}
	}
	for _, spec := range specs {
		namePart, idxPart, hasIdx := strings.Cut(spec, ":")
		if isGlob(namePart) {
			if _, err := path.Match(namePart, ""); err != nil {
				return nil, &RemoteError{Code: CodeBadRequest, Msg: fmt.Sprintf("target %q: bad pattern: %v", spec, err)}
			}
			matched := 0
			for _, n := range names {
				if ok, _ := path.Match(namePart, n); !ok {
					continue
				}
				spec := n
				if hasIdx && idxPart != "*" {
					spec += ":" + idxPart
				}
				t, err := supervisor.ParseTarget(spec)
				if err != nil {
					return nil, &RemoteError{Code: CodeBadRequest, Msg: err.Error()}
				}
				if t.Index >= count[n] {
					continue
				}
				add(t)
				matched++
			}
			if matched == 0 {
				return nil, &RemoteError{Code: CodeNotFound,
					Msg: fmt.Sprintf("no process matches %q (known: %s)", spec, strings.Join(sortedCopy(names), ", "))}
			}
			continue
		}
		t, err := supervisor.ParseTarget(spec)
		if err != nil {
			return nil, &RemoteError{Code: CodeBadRequest, Msg: err.Error()}
		}
		if t.All {
			return []supervisor.Target{t}, nil
		}
		n, ok := count[t.Name]
		switch {
		case !ok:
			msg := fmt.Sprintf("no process named %q", t.Name)
			if s := suggest.Closest(t.Name, names); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return nil, &RemoteError{Code: CodeNotFound, Msg: msg + " (known: " + strings.Join(sortedCopy(names), ", ") + ")"}
		case t.Index >= n:
			return nil, &RemoteError{Code: CodeNotFound, Msg: fmt.Sprintf("%s has no instance %d (instances 0-%d)", t.Name, t.Index, n-1)}
		}
		add(t)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if order[out[i].Name] != order[out[j].Name] {
			return order[out[i].Name] < order[out[j].Name]
		}
		return out[i].Index < out[j].Index
	})
	return out, nil
}

// selects reports whether any of ts selects the instance.
func selects(ts []supervisor.Target, s supervisor.InstanceStatus) bool {
	for _, t := range ts {
		if t.All || (s.Name == t.Name && (t.Index < 0 || s.Index == t.Index)) {
			return true
		}
	}
	return false
}

// instanceIDs returns the IDs of the instances ts select, in config order.
func instanceIDs(ts []supervisor.Target, all []supervisor.InstanceStatus) []string {
	var ids []string
	for _, s := range all {
		if selects(ts, s) {
			ids = append(ids, s.ID())
		}
	}
	return ids
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
