package paths

// OS returns the defaults for macOS (the tar.gz unpacks under /usr/local/openim).
func OS() Defaults {
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
