//go:build unix

package supervisor

import (
	"fmt"

	"github.com/openim-supervisor/openim-supervisor/internal/process"
)

// checkSignal accepts a signal name the OS knows (HUP, SIGUSR1, ...).
func checkSignal(sig string) error {
	if _, err := process.ParseSignal(sig); err != nil {
		return fmt.Errorf("%w (want a name like HUP, USR1, TERM; see `kill -l`)", ErrBadSignal)
	}
	return nil
}
