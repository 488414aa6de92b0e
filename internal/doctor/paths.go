package doctor

import (
	"os"
	"path/filepath"
)

// existingParent returns dir, or its nearest ancestor that exists ("" when none).
func existingParent(dir string) string {
	if dir == "" {
		return ""
	}
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
