//go:build unix

package process

import (
	"errors"
	"syscall"
)

func killRecord(r Record) error {
	err := syscall.Kill(-r.PGID, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		err = syscall.Kill(r.PID, syscall.SIGKILL)
	}
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
