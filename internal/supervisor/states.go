package supervisor

// transitions lists the allowed state changes of an instance; a test walks
// it, and the instance goroutine counts (and logs) any change outside it.
var transitions = map[State][]State{
	StatePending:  {StateStarting, StateStopped, StateBackoff, StateFailed, StateExited},
	StateStopped:  {StateStarting, StateBackoff, StateFailed, StateExited},
	StateStarting: {StateRunning, StateStopping, StateBackoff, StateFailed, StateExited, StateStarting},
	StateRunning:  {StateStopping, StateBackoff, StateFailed, StateExited, StateStarting},
	StateBackoff:  {StateStarting, StateStopped, StateBackoff, StateFailed, StateExited},
	StateStopping: {StateStopped},
	StateExited:   {StateStarting, StateBackoff, StateFailed, StateStopped},
	StateFailed:   {StateStarting, StateStopped, StateBackoff, StateFailed, StateExited},
}

func validTransition(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}
