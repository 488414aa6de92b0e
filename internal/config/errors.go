package config

import (
	"errors"
	"strconv"
	"strings"
)

// Error is one problem in a config (or env) file, located by file, line and key.
// It renders as "FILE:LINE: KEY: MSG (fix: FIX)"; parts that are unknown are left out.
type Error struct {
	File string // the file the problem is in
	Line int    // 1-based; 0 when unknown
	Key  string // dotted key path, e.g. "processes[3].stopTimeout"; "" for the whole file
	Msg  string
	Fix  string // what to do about it; may be ""
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (fix: " + e.Fix + ")")
	}
	return b.String()
}

// Errors is every problem found in one load, in file order. errors.As with
// *Error finds the first.
type Errors []error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As and errors.Is look at each problem.
func (es Errors) Unwrap() []error { return es }

// err returns es as an error, or nil when empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// VersionError says the file's schema version is not the one this binary
// reads. It is returned (inside Errors) by Load; Located renders it.
type VersionError struct {
	Located *Error
	Found   int
	Current int
}

func (e *VersionError) Error() string { return e.Located.Error() }

// Unwrap returns the located error, so errors.As(err, **Error) finds it.
func (e *VersionError) Unwrap() error { return e.Located }

// Older reports whether the file is of an older schema (config migrate fixes it).
func (e *VersionError) Older() bool { return e.Found < e.Current }

// IsConfigError reports whether err is (or wraps) a problem with the config
// itself, as opposed to, say, a file that cannot be read because of permissions.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
