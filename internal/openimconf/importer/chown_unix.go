//go:build unix

package importer

import (
	"os"
	"syscall"
)

// chown gives path the owner and group of st (best effort: needs root).
func chown(path string, st os.FileInfo) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		_ = os.Chown(path, int(s.Uid), int(s.Gid))
	}
}
