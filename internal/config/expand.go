package config

import (
	"fmt"
	"strings"
)

// expander replaces ${VAR} in config values. Variables come from the env file
// first, then the supervisor's environment (lookup).
//
// Syntax: ${NAME}, ${NAME:-default} (default when unset or empty), and $${ for
// a literal "${". Any other $ is left as it is, so "$HOME" in an argument stays
// for the child to see.
//
// Values from the env file are secrets: they may only be expanded where the
// caller says so (process env values); anywhere else they could end up in argv,
// logs or status, so using one there is an error.
type expander struct {
	envFile string            // for messages
	file    map[string]string // env file variables (secrets)
	lookup  func(string) (string, bool)
	lenient bool // an unset variable expands to "" (Options.SkipFileChecks)
}

// expandErr is a problem with one value; the decoder adds file, line and key.
type expandErr struct{ msg, fix string }

func (x *expander) expand(s string, secretOK bool) (string, *expandErr) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // $${ -> literal ${
			b.WriteString(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", &expandErr{msg: "unclosed ${ in value", fix: "write ${NAME}, or $${ for a literal ${"}
		}
		ref := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", &expandErr{msg: fmt.Sprintf("${%s} is not a variable reference", ref),
				fix: "names use letters, digits and _; write ${NAME} or ${NAME:-default}"}
		}
		val, fromFile, ok := x.get(name)
		if fromFile && !secretOK {
			return "", &expandErr{
				msg: fmt.Sprintf("${%s} comes from the env file %s, whose values are secrets; "+
					"they may only be used in processes[].env and defaults.env (every process gets them in its environment anyway)", name, x.envFile),
				fix: "read it from the environment in the program, or set it in the supervisor's own environment instead"}
		}
		if !ok || (val == "" && hasDef) {
			if !hasDef && !x.lenient {
				where := "the supervisor's environment"
				if x.envFile != "" {
					where = "the env file " + x.envFile + " nor " + where
				}
				return "", &expandErr{msg: fmt.Sprintf("variable %s is not set (not in %s)", name, where),
					fix: fmt.Sprintf("set %s, or write ${%s:-default}", name, name)}
			}
			val = def
		}
		b.WriteString(val)
	}
}

func (x *expander) get(name string) (val string, fromFile, ok bool) {
	if v, ok := x.file[name]; ok {
		return v, true, true
	}
	if x.lookup != nil {
		v, ok := x.lookup(name)
		return v, false, ok
	}
	return "", false, false
}
