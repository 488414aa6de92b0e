package doctor

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// nofileOf returns the soft open-file limit of the first pid whose
// /proc/PID/limits can be read, else this process's original one.
func nofileOf(pids []int, whose map[int]string) (uint64, string, error) {
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "Max open files") {
				continue
			}
			f := strings.Fields(strings.TrimPrefix(line, "Max open files"))
			if len(f) > 0 {
				if f[0] == "unlimited" {
					return 1 << 62, whose[pid], nil
				}
				if n, err := strconv.ParseUint(f[0], 10, 64); err == nil {
					return n, fmt.Sprintf("%s, pid %d", whose[pid], pid), nil
				}
			}
		}
	}
	n, err := ownNofile()
	if err != nil {
		return 0, "", err
	}
	return n, "this shell's; the supervisor is not running", nil
}

// owner is the process listening on a port.
type owner struct {
	pid, parent int
	name        string
}

// portOwner finds the process that listens on port: the socket inode from
// /proc/net/tcp{,6}, then the process holding it. Zero when not found
// (another user's process and no root).
func portOwner(port int) owner {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); ok && err == nil && int(p) == port {
				inodes[fs[9]] = true
			}
		}
		fh.Close()
	}
	if len(inodes) == 0 {
		return owner{}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		fds, err := os.ReadDir(p + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			l, err := os.Readlink(p + "/fd/" + fd.Name())
			if err != nil || !strings.HasPrefix(l, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] {
				pid, _ := strconv.Atoi(filepath.Base(p))
				o := owner{pid: pid}
				if b, err := os.ReadFile(p + "/comm"); err == nil {
					o.name = strings.TrimSpace(string(b))
				}
				if b, err := os.ReadFile(p + "/stat"); err == nil {
					if i := strings.LastIndexByte(string(b), ')'); i > 0 {
						if f := strings.Fields(string(b)[i+1:]); len(f) > 1 {
							o.parent, _ = strconv.Atoi(f[1])
						}
					}
				}
				return o
			}
		}
	}
	return owner{}
}
