//go:build !unix

package upgrade

import "os"

// processAlive reports whether a process with this PID exists. On Windows
// FindProcess opens the process and fails when it does not exist.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
