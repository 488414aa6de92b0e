package supervisor

import (
	"errors"
	"fmt"
)

// checkSignal refuses every signal: Windows has none to send to a process
// (the process package would turn any of them into a termination).
func checkSignal(sig string) error {
	return fmt.Errorf("Windows processes take no signals: %w", errors.ErrUnsupported)
}
