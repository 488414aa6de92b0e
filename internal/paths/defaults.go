package paths

import (
	"fmt"
	"strings"
)

// For returns the default paths of goos ("linux", "darwin", "windows") as they
// are on that OS, whatever OS asks: the package builder renders each OS's
// config on Linux. OS() is For(runtime OS) with the Windows locations taken
// from the running system.
func For(goos string) (Defaults, error) {
	switch goos {
	case "linux":
		return unixDefaults(), nil
	case "darwin":
		return darwinDefaults(), nil
	case "windows":
		return windowsDefaults(`C:\ProgramData`, `C:\Program Files\OpenIM`), nil
	default:
		return Defaults{}, fmt.Errorf("paths: unknown OS %q (want linux, darwin or windows)", goos)
	}
}

// unixDefaults is the FHS layout of Linux and other Unix systems.
func unixDefaults() Defaults {
	return Defaults{
		ConfigFile:      "/etc/openim/config.yaml",
		EnvFile:         "/etc/openim/openim.env",
		BinDir:          "/usr/lib/openim/bin",
		OpenIMConfigDir: "/etc/openim/config",
		LogDir:          "/var/log/openim",
		RuntimeDir:      "/run/openim",
		StateDir:        "/var/lib/openim",
	}
}

// darwinDefaults: the tar.gz unpacks under /usr/local/openim.
func darwinDefaults() Defaults {
	return Defaults{
		ConfigFile:      "/usr/local/etc/openim/config.yaml",
		EnvFile:         "/usr/local/etc/openim/openim.env",
		BinDir:          "/usr/local/openim/bin",
		OpenIMConfigDir: "/usr/local/etc/openim/config",
		LogDir:          "/usr/local/var/log/openim",
		RuntimeDir:      "/usr/local/var/run/openim",
		StateDir:        "/usr/local/var/lib/openim",
	}
}

// windowsDefaults: everything under <programData>\OpenIM, the programs in
// binDir (next to openim-supervisor.exe). Joined with `\` so the result is the
// same on any OS.
func windowsDefaults(programData, binDir string) Defaults {
	root := strings.TrimRight(programData, `\`) + `\OpenIM`
	return Defaults{
		ConfigFile:      root + `\config.yaml`,
		EnvFile:         root + `\openim.env`,
		BinDir:          binDir,
		OpenIMConfigDir: root + `\config`,
		LogDir:          root + `\logs`,
		RuntimeDir:      root + `\run`,
		StateDir:        root + `\state`,
	}
}
