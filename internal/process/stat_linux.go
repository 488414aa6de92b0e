package process

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

type procStat struct {
	pid       int
	state     byte
	pgrp      int
	sid       int
	startTime uint64 // clock ticks since boot
}

// readStat parses /proc/<pid>/stat (fields after the parenthesised comm).
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+2:])
	// f[0]=state(3) f[1]=ppid(4) f[2]=pgrp(5) f[3]=session(6) ... f[19]=starttime(22)
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	pg, err1 := strconv.Atoi(string(f[2]))
	sid, err2 := strconv.Atoi(string(f[3]))
	st, err3 := strconv.ParseUint(string(f[19]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return procStat{pid: pid, state: f[0][0], pgrp: pg, sid: sid, startTime: st}, nil
}

// StartTicks returns the start time of pid (clock ticks since boot), which
// tells a recycled pid from the process recorded earlier.
func StartTicks(pid int) (uint64, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, fmt.Errorf("start time of pid %d: %w", pid, err)
	}
	return st.startTime, nil
}
