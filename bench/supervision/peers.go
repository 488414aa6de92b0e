//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// peer is one supervisor under test.
type peer interface {
	name() string
	// setup writes the definitions of n services running child into dir.
	setup(dir string, n int, child string) error
	// command launches the root supervisor process over n services. It is
	// not tied to a context: the harness kills the whole tree itself.
	command(dir string, n int) *exec.Cmd
	// stopAll asks the whole tree to stop every service and exit.
	stopAll(ctx context.Context, dir string, root *os.Process) error
}

// runit: runsvdir over a service dir; one runsv per service; run is a
// symlink to the child program (no shell in between).
type runit struct{}

func (runit) name() string { return "runit" }
func (runit) setup(dir string, n int, child string) error {
	return serviceDirs(filepath.Join(dir, "service"), n, child)
}
func (runit) command(dir string, _ int) *exec.Cmd {
	return exec.Command("runsvdir", filepath.Join(dir, "service"))
}

// stopAll: `sv down` on every service (written straight to each
// supervise/control FIFO, as sv does), then runsvdir's documented HUP,
// which TERMs every runsv.
func (runit) stopAll(ctx context.Context, dir string, root *os.Process) error {
	if err := controlAll(filepath.Join(dir, "service"), "dx"); err != nil {
		return err
	}
	return root.Signal(syscall.SIGHUP)
}

// s6: s6-svscan over a scan dir; one s6-supervise per service.
type s6 struct{}

func (s6) name() string { return "s6" }
func (s6) setup(dir string, n int, child string) error {
	return serviceDirs(filepath.Join(dir, "scan"), n, child)
}
func (s6) command(dir string, n int) *exec.Cmd {
	// -c: s6-svscan supervises at most 500 services by default.
	return exec.Command("s6-svscan", "-c", strconv.Itoa(n+10), filepath.Join(dir, "scan"))
}

// stopAll: s6-svscanctl -t: s6-svscan brings every service down and exits.
func (s6) stopAll(ctx context.Context, dir string, root *os.Process) error {
	out, err := exec.CommandContext(ctx, "s6-svscanctl", "-t", filepath.Join(dir, "scan")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("s6-svscanctl -t: %w: %s", err, out)
	}
	return nil
}

// supervisord (Debian's supervisor): one [program:x] per service.
type supervisord struct{}

func (supervisord) name() string { return "supervisord" }
func (supervisord) setup(dir string, n int, child string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "[supervisord]\nnodaemon=true\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\nchildlogdir=%s/logs\nminfds=%d\nminprocs=%d\n\n",
		dir, dir, dir, 8*n+1024, n+200)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "[program:c%d]\ncommand=%s\nautorestart=true\n\n", i, child)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "supervisord.conf"), []byte(b.String()), 0o644)
}
func (supervisord) command(dir string, _ int) *exec.Cmd {
	return exec.Command("supervisord", "-n", "-c", filepath.Join(dir, "supervisord.conf"))
}
func (supervisord) stopAll(ctx context.Context, dir string, root *os.Process) error {
	return root.Signal(syscall.SIGTERM)
}

// openim: openim-supervisor run with the shipped defaults (nothing in the
// config but the paths and the process list): N programs of one instance
// each (what users run: many services), or with oneProgram one program with
// N instances.
type openim struct {
	bin        string
	oneProgram bool
}

func (o openim) name() string {
	if o.oneProgram {
		return "openim-supervisor (1 program x N)"
	}
	return "openim-supervisor"
}

func (o openim) setup(dir string, n int, child string) error {
	for _, d := range []string{"bin", "conf", "logs", "run", "state"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	var procs strings.Builder
	if o.oneProgram {
		fmt.Fprintf(&procs, "  - name: standin\n    command: %s\n    instances: %d\n", child, n)
	} else {
		for i := 0; i < n; i++ {
			fmt.Fprintf(&procs, "  - name: c%d\n    command: %s\n", i, child)
		}
	}
	return writeOpenIMConfig(dir, procs.String())
}

// writeOpenIMConfig writes dir/config.yaml: paths under dir, no pre-start
// tools, the given processes, every other setting at its default.
func writeOpenIMConfig(dir, processes string) error {
	cfg := fmt.Sprintf(`version: 2
paths:
  binDir: %[1]s/bin
  openimConfigDir: %[1]s/conf
  logDir: %[1]s/logs
  runtimeDir: %[1]s/run
  stateDir: %[1]s/state
preStart: []
processes:
%[2]s`, dir, processes)
	return os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644)
}

func (o openim) command(dir string, _ int) *exec.Cmd {
	return exec.Command(o.bin, "run", "--config", filepath.Join(dir, "config.yaml"))
}
func (openim) stopAll(ctx context.Context, dir string, root *os.Process) error {
	return root.Signal(syscall.SIGTERM)
}

// serviceDirs makes n runit/s6 service dirs whose run is the child program.
// The scan dir's mtime is set in the past: runsvdir does not trust a dir
// modified within the current second and would wait a second before its
// first scan, which a freshly written benchmark dir always is.
func serviceDirs(base string, n int, child string) error {
	for i := 0; i < n; i++ {
		d := filepath.Join(base, fmt.Sprintf("c%d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Symlink(child, filepath.Join(d, "run")); err != nil {
			return err
		}
	}
	past := time.Now().Add(-time.Minute)
	return os.Chtimes(base, past, past)
}

// controlAll writes cmd to every service's supervise/control FIFO.
func controlAll(base, cmd string) error {
	ents, err := os.ReadDir(base)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(base, e.Name(), "supervise", "control")
		f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", p, err)
		}
		_, err = f.WriteString(cmd)
		f.Close()
		if err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}
