package config

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadEnvFile reads a KEY=VALUE file: the environment given to every child
// (IMENV_* overrides, passwords) and the first source of ${VAR} expansion.
//
// Syntax, one variable a line: blank lines and lines starting with # are
// skipped; "export " before the key is allowed; the value is the rest of the
// line with surrounding blanks trimmed, or a 'single-quoted' literal, or a
// "double-quoted" string where \" \\ \n \t \$ are escapes. There is no
// expansion inside the file and no inline comment after an unquoted value
// (a # is part of it, as in a password). A key may appear once.
//
// Values are secrets: errors name the file, the line and the key, never the value.
func ReadEnvFile(path string) (map[string]string, error) {
	// Only a regular file: opening a FIFO or reading a device could block.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, Errors{&Error{File: path, Msg: "not a regular file"}}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEnvFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxEnvFile {
		return nil, Errors{&Error{File: path, Msg: "larger than 1 MiB; is this really an env file?"}}
	}
	return ParseEnv(path, data)
}

const maxEnvFile = 1 << 20

// ParseEnv parses env-file content; file is used in error messages only.
func ParseEnv(file string, data []byte) (map[string]string, error) {
	env := map[string]string{}
	firstLine := map[string]int{}
	var errs Errors
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, raw, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok {
			errs = append(errs, &Error{File: file, Line: n, Msg: "line is not KEY=VALUE",
				Fix: "write NAME=value, or start the line with # to make it a comment"})
			continue
		}
		if !validEnvName(key) {
			errs = append(errs, &Error{File: file, Line: n, Key: key,
				Msg: "not a valid variable name", Fix: "use letters, digits and _, not starting with a digit"})
			continue
		}
		val, msg := envValue(strings.TrimSpace(raw))
		if msg != "" {
			errs = append(errs, &Error{File: file, Line: n, Key: key, Msg: msg})
			continue
		}
		if first, dup := firstLine[key]; dup {
			errs = append(errs, &Error{File: file, Line: n, Key: key,
				Msg: fmt.Sprintf("set again (first at line %d)", first), Fix: "keep one of the two lines"})
			continue
		}
		firstLine[key] = n
		env[key] = val
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &Error{File: file, Msg: "cannot read: " + err.Error()})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return env, nil
}

// envValue unquotes a value; msg is non-empty when it is malformed. The
// message never contains the value.
func envValue(raw string) (val, msg string) {
	if raw == "" {
		return "", ""
	}
	switch raw[0] {
	case '\'':
		if len(raw) < 2 || raw[len(raw)-1] != '\'' || strings.Contains(raw[1:len(raw)-1], "'") {
			return "", "single-quoted value is not closed on this line (or has text after the closing quote)"
		}
		return raw[1 : len(raw)-1], ""
	case '"':
		var b strings.Builder
		for i := 1; i < len(raw); i++ {
			c := raw[i]
			switch {
			case c == '"':
				if i != len(raw)-1 {
					return "", "text after the closing double quote"
				}
				return b.String(), ""
			case c == '\\' && i+1 < len(raw):
				i++
				switch raw[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case '"', '\\', '$':
					b.WriteByte(raw[i])
				default:
					return "", `unknown escape in double-quoted value (the escapes are \" \\ \n \t \$)`
				}
			default:
				b.WriteByte(c)
			}
		}
		return "", "double-quoted value is not closed on this line"
	}
	return raw, ""
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
