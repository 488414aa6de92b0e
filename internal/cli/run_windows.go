//go:build windows

package cli

import (
	"os"
	"syscall"
)

func notifySignals() []os.Signal  { return []os.Signal{os.Interrupt, syscall.SIGTERM} }
func ignoredSignals() []os.Signal { return nil }

func isReloadSignal(os.Signal) bool { return false }
func isInterrupt(s os.Signal) bool  { return s == os.Interrupt }
