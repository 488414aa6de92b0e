//go:build !linux

package cli

// startHint is how the user starts the supervisor on this OS.
const startHint = "openim-supervisor service start (or openim-supervisor run in the foreground)"
