//go:build unix && !linux

package openimtest

import "syscall"

// stopWithTest: no parent-death signal outside Linux.
func stopWithTest(*syscall.SysProcAttr) {}
