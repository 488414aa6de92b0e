//go:build !linux

package process

import (
	"os"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// Poller is only implemented on Linux; elsewhere each child uses reader
// and wait goroutines.
type Poller struct{}

// NewPoller returns nil outside Linux (Spec.Poller nil means goroutines).
func NewPoller() (*Poller, error) { return nil, nil }

// Close does nothing.
func (p *Poller) Close() error { return nil }

func (p *Poller) usable() bool { return false }

func pipe() (r, w *os.File, err error) { return os.Pipe() }

func watchPipe(*Poller, *os.File, *logs.LineWriter, func()) bool { return false }

func watchExit(*Poller, *Process) bool { return false }
