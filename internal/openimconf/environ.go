package openimconf

import "os"

// osEnviron is the process environment (a function so the list is read
// when checked, never cached).
func osEnviron() []string { return os.Environ() }
