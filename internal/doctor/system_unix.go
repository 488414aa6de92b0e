//go:build unix

package doctor

import (
	"golang.org/x/sys/unix"
)

// diskSpace returns the bytes available to unprivileged users and the size
// of the file system holding dir.
func diskSpace(dir string) (free, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	bs := uint64(st.Bsize) //nolint:unconvert // int64 on Linux, uint32 on macOS
	return uint64(st.Bavail) * bs, uint64(st.Blocks) * bs, nil
}

// ownNofile is this process's soft open-file limit as it was at start (Go
// raises its own soft limit and restores the original for children).
func ownNofile() (uint64, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return rl.Cur, nil
}
