//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"
)

// guardianStart times what openim-supervisor's Run does to start its
// guardian: re-execute the binary with OPENIM_SUPERVISOR_GUARDIAN=1 and
// wait for its "listening" byte on fd 3. The median of n runs.
func guardianStart(bin string, n int) (time.Duration, error) {
	var ds []time.Duration
	for range n {
		r, w, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		in, inW, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), "OPENIM_SUPERVISOR_GUARDIAN=1")
		cmd.Stdin = in
		cmd.ExtraFiles = []*os.File{w}
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		w.Close()
		in.Close()
		var b [1]byte
		k, _ := r.Read(b[:])
		d := time.Since(t0)
		r.Close()
		inW.Close() // EOF: it exits with nothing to kill
		cmd.Wait()
		if k != 1 || b[0] != 'G' {
			return 0, fmt.Errorf("%s did not start as the guardian", bin)
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}
