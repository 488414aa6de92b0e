//go:build unix

package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkFileMode applies rule to path and to its directory.
func checkFileMode(path string, rule modeRule) Errors {
	st, err := os.Stat(path)
	if err != nil {
		return nil // reading it reports the problem
	}
	var errs Errors
	if bad := st.Mode().Perm() & rule.forbidden; bad != 0 {
		errs = append(errs, modeError(path,
			fmt.Sprintf("%s has mode %s: %s; refusing to use it", rule.what, permString(st.Mode()), rule.why),
			fmt.Sprintf("chmod %s %s", rule.fixMode, path)))
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		if uid := int(sys.Uid); uid != 0 && uid != os.Geteuid() {
			errs = append(errs, modeError(path,
				fmt.Sprintf("%s belongs to uid %d, neither root nor the user running openim-supervisor (uid %d); refusing to use it", rule.what, uid, os.Geteuid()),
				fmt.Sprintf("chown root %s", path)))
		}
	}
	dir := filepath.Dir(path)
	if dst, err := os.Stat(dir); err == nil {
		if dst.Mode().Perm()&0o002 != 0 && dst.Mode()&fs.ModeSticky == 0 {
			errs = append(errs, modeError(path,
				fmt.Sprintf("its directory %s has mode %s: any user can replace the %s; refusing to use it", dir, permString(dst.Mode()), rule.what),
				fmt.Sprintf("chmod o-w %s, or keep the file in a directory only root can write", dir)))
		}
	}
	return errs
}
