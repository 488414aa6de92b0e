//go:build !linux

package doctor

import "errors"

type owner struct {
	pid, parent int
	name        string
}

// portOwner is not known outside Linux (no /proc): a taken port is reported
// without its program.
func portOwner(int) owner { return owner{} }

// nofileOf reads no other process's limit outside Linux.
func nofileOf([]int, map[int]string) (uint64, string, error) {
	n, err := ownNofile()
	return n, "this shell's", err
}

var errNoStatfs = errors.New("free space is not checked on this OS")
