package config

import (
	"fmt"
	"io/fs"
)

// Modes of the files the supervisor trusts, checked the way OpenSSH checks
// its own (refuse, don't warn, when the risk is real):
//
//   - The env file holds the secrets and is put into every child's
//     environment (a line LD_PRELOAD=... would run code in all of them).
//     Like a private key: refused when other users may read or write it, or
//     the group may write it (0600 and 0640 pass), or it belongs to another
//     user than root or the supervisor's.
//   - The config file names the commands the supervisor runs. Like
//     ~/.ssh/config: refused when the group or other users may write it, or
//     it belongs to another user than root or the supervisor's. Reading it
//     is fine (0644): it holds no secret values, only ${VAR} references.
//   - The directory holding either file: refused when others may write it
//     without the sticky bit (anyone could replace the file).
//
// On Windows files carry ACLs, not modes; nothing is checked there.

// modeRule is one file's limits.
type modeRule struct {
	what      string      // "env file", "config file"
	forbidden fs.FileMode // permission bits that must be clear
	why       string      // what the forbidden bits allow
	fixMode   string      // the mode to suggest
}

var (
	envFileRule = modeRule{what: "env file", forbidden: 0o027,
		why: "other users can read the secrets in it, or change what every OpenIM process gets in its environment", fixMode: "0600 (or 0640 with the service's group)"}
	configFileRule = modeRule{what: "config file", forbidden: 0o022,
		why: "other users can change the commands the supervisor runs", fixMode: "0644"}
)

// checkModes returns the refused files among the config file and its env
// file, as located errors with the chmod/chown that fixes them.
func checkModes(cfg *Config) Errors {
	var errs Errors
	if cfg.Source != "" {
		errs = append(errs, checkFileMode(cfg.Source, configFileRule)...)
	}
	if cfg.EnvFile != "" {
		errs = append(errs, checkFileMode(cfg.EnvFile, envFileRule)...)
	}
	return errs
}

func modeError(path string, msg, fix string) *Error {
	return &Error{File: path, Msg: msg, Fix: fix}
}

func permString(m fs.FileMode) string { return fmt.Sprintf("%04o", m.Perm()) }
