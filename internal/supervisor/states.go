package supervisor

// transitions lists the allowed state changes of an instance.
var transitions = map[State][]State{
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
