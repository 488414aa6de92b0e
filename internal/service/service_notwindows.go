//go:build !windows

package service

import (
	"context"
	"fmt"
)

// RunWindowsService is only available on Windows.
func RunWindowsService(ctx context.Context, name string, run func(ctx context.Context) error) error {
	return fmt.Errorf("run --service: %w (the Windows service dispatcher exists only on Windows)", ErrUnsupported)
}
