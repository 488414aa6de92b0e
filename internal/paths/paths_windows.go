package paths

import (
	"os"
	"path/filepath"
)

// OS returns the defaults for Windows: everything under %ProgramData%\OpenIM,
// the programs next to the zip's openim-supervisor.exe.
func OS() Defaults {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	bin := `C:\Program Files\OpenIM`
	if exe, err := os.Executable(); err == nil {
		bin = filepath.Dir(exe)
	}
	return windowsDefaults(base, bin)
}
