package service

import (
	"errors"
	"fmt"
	"strings"
)

// Defaults in the shipped unit's ExecStart; RenderUnit replaces them.
const (
	unitDefaultExecutable = "/usr/bin/openim-supervisor"
	unitDefaultConfig     = "/etc/openim/config.yaml"
)

// RenderUnit returns the systemd unit text with ExecStart's binary replaced
// by executable and its --config value by configPath. Everything else of the
// shipped unit is kept byte for byte, so packages and `service install`
// install the same unit.
func RenderUnit(unit, executable, configPath string) (string, error) {
	lines := strings.SplitAfter(unit, "\n")
	found := false
	for i, line := range lines {
		body := strings.TrimRight(line, "\r\n")
		if !strings.HasPrefix(strings.TrimSpace(body), "ExecStart=") {
			continue
		}
		if found {
			return "", errors.New("unit has more than one ExecStart= line")
		}
		found = true
		value := strings.TrimPrefix(strings.TrimSpace(body), "ExecStart=")
		words := strings.Fields(value)
		if len(words) == 0 {
			return "", errors.New("unit has an empty ExecStart=")
		}
		// Keep systemd's ExecStart prefixes (-, @, +, !, :) on the binary.
		prefix := ""
		for len(words[0]) > 0 && strings.ContainsRune("-@+!:", rune(words[0][0])) {
			prefix += words[0][:1]
			words[0] = words[0][1:]
		}
		words[0] = prefix + quoteUnitWord(executable)
		replaced := false
		for j := 1; j < len(words); j++ {
			switch {
			case words[j] == "--config" || words[j] == "-c":
				if j+1 >= len(words) {
					return "", fmt.Errorf("ExecStart: %s without a value", words[j])
				}
				words[j+1] = quoteUnitWord(configPath)
				replaced = true
				j++
			case strings.HasPrefix(words[j], "--config="):
				words[j] = "--config=" + quoteUnitWord(configPath)
				replaced = true
			}
		}
		if !replaced {
			words = append(words, "--config", quoteUnitWord(configPath))
		}
		lines[i] = "ExecStart=" + strings.Join(words, " ") + line[len(body):]
	}
	if !found {
		return "", errors.New("unit has no ExecStart= line")
	}
	return strings.Join(lines, ""), nil
}

// quoteUnitWord quotes a path for a systemd command line when it needs it.
// systemd also expands % specifiers, so a literal % is doubled.
func quoteUnitWord(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if strings.ContainsAny(s, " \t\"'\\") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return s
}
