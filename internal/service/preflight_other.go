//go:build !linux

package service

// Preflight checks nothing outside Linux: the Windows service runs as
// LocalSystem and the launchd daemon as root, without a sandbox.
func Preflight(PreflightPaths) []Problem { return nil }
