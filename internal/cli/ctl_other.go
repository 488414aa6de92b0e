//go:build !linux && !windows

package cli

// startHint is how the user starts the supervisor on this OS.
const startHint = "openim-supervisor service start (or openim-supervisor run in the foreground)"

// permHint is what to do when the control socket refuses the user.
const permHint = "run with sudo, or join the group that owns it (control.group in the config)"
