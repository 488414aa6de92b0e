//go:build !linux

package process

import (
	"context"
	"errors"
)

// Run waits for ctx: outside Linux there is no child subreaper, and
// grandchildren are re-parented to init (or, on Windows, die with the Job).
func (r *Reaper) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// StartTicks is only implemented on Linux.
func StartTicks(pid int) (uint64, error) {
	return 0, errors.ErrUnsupported
}
