//go:build !windows && !darwin

package paths

// OS returns the defaults for Linux and other Unix systems (FHS layout).
func OS() Defaults {
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
