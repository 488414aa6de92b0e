//go:build unix

package merge

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ownLike gives path, every directory between root and path, and the
// entries of path the owner
// and group of root when this process may (root): a merge run as root by
// the package scripts must not leave directories in the state dir that the
// service user, who runs the data upgrade next, cannot write.
func ownLike(root, path string) {
	if os.Geteuid() != 0 {
		return
	}
	st, err := os.Stat(root)
	if err != nil {
		return
	}
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	rel, err := filepath.Rel(root, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return
	}
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "." || part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		_ = os.Lchown(cur, int(s.Uid), int(s.Gid))
	}
	ents, _ := os.ReadDir(path)
	for _, e := range ents {
		_ = os.Lchown(filepath.Join(path, e.Name()), int(s.Uid), int(s.Gid))
	}
}
