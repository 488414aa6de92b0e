package supervisor

import "testing"

// Every state has outgoing transitions, every target is a known state, and
// the ones the supervision loop relies on are allowed. (The real-process
// tests additionally fail on any transition outside the table.)
func TestTransitionTable(t *testing.T) {
	t.Parallel()
	all := []State{StatePending, StateStopped, StateStarting, StateRunning, StateBackoff, StateStopping, StateExited, StateFailed}
	known := map[State]bool{}
	for _, s := range all {
		known[s] = true
	}
	for _, s := range all {
		if len(transitions[s]) == 0 {
			t.Errorf("%s has no transitions", s)
		}
		for _, to := range transitions[s] {
			if !known[to] {
				t.Errorf("%s -> unknown state %q", s, to)
			}
		}
	}
	must := [][2]State{
		{StateStopped, StateStarting}, {StateStarting, StateRunning}, {StateRunning, StateStopping},
		{StateStopping, StateStopped}, {StateRunning, StateBackoff}, {StateBackoff, StateStarting},
		{StateRunning, StateStarting}, // immediate restart after a stable run
		{StateStarting, StateFailed}, {StateFailed, StateStarting}, {StateRunning, StateExited},
		{StateBackoff, StateStopped}, {StateFailed, StateStopped},
		{StatePending, StateStarting}, {StatePending, StateStopped}, // start; stopped before it started
	}
	for _, p := range must {
		if !validTransition(p[0], p[1]) {
			t.Errorf("%s -> %s not allowed", p[0], p[1])
		}
	}
	for _, bad := range [][2]State{{StateStopping, StateRunning}, {StateStopped, StateRunning}, {StateStopping, StateBackoff},
		{StatePending, StateRunning}, {StateStopped, StatePending}, {StateRunning, StatePending}} {
		if validTransition(bad[0], bad[1]) {
			t.Errorf("%s -> %s allowed", bad[0], bad[1])
		}
	}
}
