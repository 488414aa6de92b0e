package paths

// OS returns the defaults for macOS.
func OS() Defaults { return darwinDefaults() }
