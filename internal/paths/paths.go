// Package paths holds the default locations of config, state, logs and the
// control socket, per OS. It is the only package that switches on the OS.
package paths

import "path/filepath"

// Defaults are the default paths for this OS.
type Defaults struct {
	ConfigFile      string
	EnvFile         string
	BinDir          string
	OpenIMConfigDir string
	LogDir          string
	RuntimeDir      string
	StateDir        string
}

// DefaultConfigFile is the config file used without --config.
func DefaultConfigFile() string { return OS().ConfigFile }

// SocketIn is the control socket (or pipe name) inside a runtime dir.
func SocketIn(runtimeDir string) string { return filepath.Join(runtimeDir, "supervisor.sock") }
