//go:build unix

package cli

import (
	"os"
	"syscall"
)

func notifySignals() []os.Signal  { return []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} }
func ignoredSignals() []os.Signal { return []os.Signal{syscall.SIGPIPE} }

func isReloadSignal(s os.Signal) bool { return s == syscall.SIGHUP }
func isInterrupt(s os.Signal) bool    { return s == syscall.SIGINT }
