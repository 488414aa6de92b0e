package service

import (
	"bufio"
	"strings"
)

// Problem is something the service needs that this machine lacks, with its fix.
type Problem struct {
	What string
	Fix  string
}

func (p Problem) String() string { return p.What + " (fix: " + p.Fix + ")" }

// PreflightPaths are the files and directories the service will use.
type PreflightPaths struct {
	Executable string
	Config     string
	EnvFile    string   // may be ""
	ReadPaths  []string // must be readable (binDir, OpenIM config dir)
	WritePaths []string // must be writable (logDir, stateDir, runtimeDir)
}

// unitSettings are the [Service] settings of a unit that decide what the
// service can reach. Later lines win; lists accumulate.
type unitSettings struct {
	user, group             string
	protectHome, privateTmp bool
	protectSystemStrict     bool
	writable                []string // ReadWritePaths and the *Directory= dirs
}

func parseUnit(unit string) unitSettings {
	var s unitSettings
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.TrimSpace(v)
		yes := v == "yes" || v == "true" || v == "1" || v == "on"
		switch strings.TrimSpace(k) {
		case "User":
			s.user = v
		case "Group":
			s.group = v
		case "ProtectHome":
			s.protectHome = yes || v == "read-only" || v == "tmpfs"
		case "PrivateTmp":
			s.privateTmp = yes
		case "ProtectSystem":
			s.protectSystemStrict = v == "strict"
		case "ReadWritePaths":
			s.writable = append(s.writable, strings.Fields(v)...)
		case "StateDirectory":
			for _, d := range strings.Fields(v) {
				s.writable = append(s.writable, "/var/lib/"+d)
			}
		case "LogsDirectory":
			for _, d := range strings.Fields(v) {
				s.writable = append(s.writable, "/var/log/"+d)
			}
		case "RuntimeDirectory":
			for _, d := range strings.Fields(v) {
				s.writable = append(s.writable, "/run/"+d)
			}
		}
	}
	return s
}

// under reports whether path is dir or inside it.
func under(path, dir string) bool {
	dir = strings.TrimRight(dir, "/")
	return path == dir || strings.HasPrefix(path, dir+"/")
}
