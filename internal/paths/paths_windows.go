package paths

import (
	"os"
	"path/filepath"
)

// OS returns the defaults for Windows: everything under %ProgramData%\OpenIM,
// binaries next to the zip's openim-supervisor.exe.
func OS() Defaults {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	root := filepath.Join(base, "OpenIM")
	bin := `C:\Program Files\OpenIM\bin`
	if exe, err := os.Executable(); err == nil {
		bin = filepath.Dir(exe)
	}
	return Defaults{
		ConfigFile:      filepath.Join(root, "config.yaml"),
		EnvFile:         filepath.Join(root, "openim.env"),
		BinDir:          bin,
		OpenIMConfigDir: filepath.Join(root, "config"),
		LogDir:          filepath.Join(root, "logs"),
		RuntimeDir:      filepath.Join(root, "run"),
		StateDir:        filepath.Join(root, "state"),
	}
}
