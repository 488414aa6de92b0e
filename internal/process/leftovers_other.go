//go:build !linux

package process

import "errors"

// Identify is only implemented on Linux (no start times elsewhere).
func Identify(id string, pid int) (Record, error) {
	return Record{}, errors.ErrUnsupported
}

// KillLeftovers kills nothing outside Linux: without start times a recorded
// pid cannot be told from a process that got it later. (On Windows the Job
// Object kills the children with the supervisor.)
func KillLeftovers([]Record) ([]Leftover, error) { return nil, nil }
