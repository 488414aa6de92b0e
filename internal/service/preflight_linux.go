package service

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/openim-supervisor/openim-supervisor/packaging"
)

// Preflight checks what the shipped unit (User=, ProtectSystem=strict,
// ProtectHome=, PrivateTmp=) needs against this machine: the user and group
// exist, the config, env file and binaries are visible and readable to that
// user inside the sandbox, and the directories the supervisor writes are
// writable there. It returns every problem at once.
func Preflight(p PreflightPaths) []Problem {
	return preflight(packaging.SystemdUnit, p)
}

func preflight(unit string, p PreflightPaths) []Problem {
	s := parseUnit(unit)
	var probs []Problem
	// add(format, args..., fix): the last argument is the fix.
	add := func(format string, a ...any) {
		fix := a[len(a)-1].(string)
		probs = append(probs, Problem{What: fmt.Sprintf(format, a[:len(a)-1]...), Fix: fix})
	}

	var u *user.User
	var gids []string
	if s.user != "" && s.user != "root" {
		var err error
		u, err = user.Lookup(s.user)
		if err != nil {
			add("the unit runs as User=%s, and there is no such user", s.user, "create it: systemd-sysusers with packaging/systemd/openim-server.sysusers, or useradd --system --home-dir /var/lib/openim --shell /usr/sbin/nologin "+s.user)
		} else {
			gids, _ = u.GroupIds()
		}
	}
	if s.group != "" && s.group != "root" {
		if _, err := user.LookupGroup(s.group); err != nil {
			add("the unit runs as Group=%s, and there is no such group", s.group, "create it: groupadd --system "+s.group+" (useradd --system creates it with the user)")
		}
	}
	hidden := func(path, what string) bool {
		switch {
		case s.protectHome && (under(path, "/home") || under(path, "/root") || under(path, "/run/user")):
			add("%s %s is under a home directory, which the unit's ProtectHome= hides from the service", what, path,
				"move it to /etc/openim (config) or /usr/lib/openim (binaries)")
			return true
		case s.privateTmp && (under(path, "/tmp") || under(path, "/var/tmp")):
			add("%s %s is under /tmp, which the unit's PrivateTmp=yes replaces with an empty one", what, path,
				"move it to /etc/openim (config) or /usr/lib/openim (binaries)")
			return true
		}
		return false
	}
	readable := func(path, what string, exec bool) {
		if path == "" || hidden(path, what) {
			return
		}
		if _, err := os.Stat(path); err != nil {
			add("%s %s: %v", what, path, err, "create it, or fix the path")
			return
		}
		if u == nil {
			return // root, or the user is missing (reported)
		}
		if bad := firstDenied(path, u, gids, exec); bad != "" {
			add("%s %s cannot be read by user %s: %s", what, path, s.user, bad,
				"chgrp "+s.group+" and chmod g+r it (and g+x on its directories), e.g. chgrp "+s.group+" "+path+" && chmod 0640 "+path)
		}
	}
	readable(p.Executable, "the executable", true)
	readable(p.Config, "the config", false)
	readable(p.EnvFile, "the env file", false)
	for _, d := range p.ReadPaths {
		readable(d, "the directory", true)
	}
	for _, d := range p.WritePaths {
		if d == "" || hidden(d, "the directory") {
			continue
		}
		if !s.protectSystemStrict {
			continue
		}
		ok := false
		for _, w := range s.writable {
			if under(d, w) {
				ok = true
			}
		}
		if !ok {
			add("the supervisor writes to %s, which the unit's ProtectSystem=strict makes read-only (writable: %v)", d, s.writable,
				"use the default paths (/var/lib/openim, /var/log/openim, /run/openim), or add ReadWritePaths="+d+" in a drop-in (systemctl edit openim-server)")
		}
	}
	return probs
}

// firstDenied walks path from / and returns why user u (with groups gids)
// cannot reach and read it, or "" when it can.
func firstDenied(path string, u *user.User, gids []string, execFile bool) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err.Error()
	}
	uid, _ := strconv.Atoi(u.Uid)
	in := map[uint32]bool{}
	for _, g := range gids {
		if n, err := strconv.Atoi(g); err == nil {
			in[uint32(n)] = true
		}
	}
	allowed := func(p string, need os.FileMode) (bool, os.FileMode) {
		st, err := os.Stat(p)
		if err != nil {
			return false, 0
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return true, st.Mode()
		}
		m := st.Mode().Perm()
		switch {
		case int(sys.Uid) == uid:
			return m&(need<<6) == need<<6, st.Mode()
		case in[sys.Gid]:
			return m&(need<<3) == need<<3, st.Mode()
		default:
			return m&need == need, st.Mode()
		}
	}
	dirs := []string{}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		dirs = append([]string{d}, dirs...)
		if d == "/" || d == "." {
			break
		}
	}
	for _, d := range dirs {
		if okd, m := allowed(d, 0o1); !okd {
			return fmt.Sprintf("directory %s (mode %04o) is not searchable by it", d, m.Perm())
		}
	}
	need := os.FileMode(0o4)
	st, err := os.Stat(abs)
	if err == nil && st.IsDir() || execFile {
		need = 0o5
	}
	if okf, m := allowed(abs, need); !okf {
		return fmt.Sprintf("mode %04o", m.Perm())
	}
	return ""
}
