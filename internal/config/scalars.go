package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// scalar is implemented by the schema's string-typed values that have their
// own syntax. The decoder hands them the (expanded) text of a YAML scalar;
// the error they return is the message shown after "KEY: ".
type scalar interface {
	parse(s string) error
}

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a duration; write a number with a unit, like 500ms, 10s, 1m30s", s)
	}
	if v < 0 {
		return fmt.Errorf("%q is negative; durations must be 0 or more", s)
	}
	*d = Duration(v)
	return nil
}

// String renders the duration as time.Duration does ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes the duration back in its string form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Signals are the stop signals a process may name (without the SIG prefix).
var signalNames = []Signal{"TERM", "INT", "QUIT", "HUP", "KILL", "USR1", "USR2"}

func (s *Signal) parse(v string) error {
	n := Signal(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(v)), "SIG"))
	for _, ok := range signalNames {
		if n == ok {
			*s = n
			return nil
		}
	}
	return fmt.Errorf("%q is not a stop signal; use one of %s", v, joinSignals())
}

func joinSignals() string {
	parts := make([]string, len(signalNames))
	for i, s := range signalNames {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	// Longest suffixes first so that "MiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

func (b *ByteSize) parse(s string) error {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("%q is not a size; write a whole number with an optional unit, like 10MiB, 512KiB, 1GiB", s)
	}
	*b = ByteSize(n * mult)
	return nil
}

// String renders the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		s string
		m int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.m == 0 {
			return strconv.FormatInt(int64(b)/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalYAML writes the size back in its string form.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

var restartPolicies = []RestartPolicy{RestartAlways, RestartOnFailure, RestartNever}

func (r *RestartPolicy) parse(s string) error {
	for _, ok := range restartPolicies {
		if RestartPolicy(s) == ok {
			*r = ok
			return nil
		}
	}
	return fmt.Errorf("%q is not a restart policy; use always, on-failure or never", s)
}

var logTargets = []LogTarget{LogAuto, LogJournal, LogFile}

func (l *LogTarget) parse(s string) error {
	for _, ok := range logTargets {
		if LogTarget(s) == ok {
			*l = ok
			return nil
		}
	}
	return fmt.Errorf("%q is not a log target; use auto, journal or file", s)
}
