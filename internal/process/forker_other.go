//go:build !linux

package process

import (
	"context"
	"errors"
	"os"
)

// Forker is only implemented on Linux (see forker_linux.go); elsewhere
// children are forked from any thread.
type Forker struct{}

// NewForker returns nil outside Linux (Spec.Forker nil: fork from any thread).
func NewForker(int) (*Forker, error) { return nil, nil }

// Close does nothing.
func (f *Forker) Close() error { return nil }

func (f *Forker) usable() bool { return false }

func startForked(context.Context, Spec) (*Process, *os.File, *os.File, error) {
	return nil, nil, nil, errors.New("no forker on this system")
}
