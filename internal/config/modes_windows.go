package config

// checkFileMode checks nothing: Windows files carry ACLs, not modes (the
// service's ProgramData directory is writable by administrators only).
func checkFileMode(string, modeRule) Errors { return nil }
