//go:build !windows && !darwin

package paths

// OS returns the defaults for Linux and other Unix systems (FHS layout).
func OS() Defaults { return unixDefaults() }
