package paths

import (
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
)

// Executable is the file of program name in dir: name itself, or name.exe on
// Windows when name has no extension.
func Executable(dir, name string) string {
	if runtime.GOOS == "windows" && filepath.Ext(name) == "" {
		name += ".exe"
	}
	return filepath.Join(dir, name)
}

// IsExecutable reports whether a regular file may be run: any x bit on Unix,
// an .exe/.bat/.cmd/.com name on Windows.
func IsExecutable(fi fs.FileInfo) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	if runtime.GOOS == "windows" {
		switch strings.ToLower(filepath.Ext(fi.Name())) {
		case ".exe", ".bat", ".cmd", ".com":
			return true
		}
		return false
	}
	return fi.Mode().Perm()&0o111 != 0
}
