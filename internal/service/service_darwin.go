package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	ks "github.com/kardianos/service"
)

// plistPath is where kardianos writes a system daemon's plist.
const plistPath = "/Library/LaunchDaemons/" + Name + ".plist"

type launchdManager struct {
	opts Options
	svc  ks.Service
}

// New returns the launchd integration (a system daemon, KeepAlive, RunAtLoad).
func New(opts Options) (Manager, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	s, err := ks.New(program{}, launchdConfig(o).kardianos())
	if err != nil {
		return nil, fmt.Errorf("launchd service %s: %w", Name, err)
	}
	return &launchdManager{opts: o, svc: s}, nil
}

func (m *launchdManager) Install(ctx context.Context) (InstallResult, error) {
	res := InstallResult{Path: plistPath}
	if _, err := os.Stat(plistPath); err == nil {
		// Refuse unless it runs the same command line.
		b, err := os.ReadFile(plistPath)
		if err != nil {
			return res, fmt.Errorf("read %s: %w", plistPath, err)
		}
		if strings.Contains(string(b), m.opts.Executable) && strings.Contains(string(b), m.opts.ConfigPath) {
			return res, nil
		}
		return res, fmt.Errorf("%w: %s; run `openim-supervisor service uninstall` first", ErrAlreadyInstalled, plistPath)
	}
	if m.opts.LogDir != "" {
		if err := os.MkdirAll(m.opts.LogDir, 0o755); err != nil {
			return res, fmt.Errorf("create %s: %w", m.opts.LogDir, err)
		}
	}
	if err := m.svc.Install(); err != nil {
		return res, fmt.Errorf("install %s: %w", plistPath, err)
	}
	res.Changed = true
	return res, nil
}

func (m *launchdManager) Uninstall(ctx context.Context) error {
	if err := m.svc.Uninstall(); err != nil {
		return fmt.Errorf("uninstall %s: %w", plistPath, err)
	}
	return nil
}

func (m *launchdManager) Start(ctx context.Context) error {
	return launchctl(ctx, "load", "-w", plistPath)
}

func (m *launchdManager) Stop(ctx context.Context) error {
	return launchctl(ctx, "unload", plistPath)
}

func (m *launchdManager) Status(ctx context.Context) (Status, error) {
	st, err := m.svc.Status()
	switch {
	case errors.Is(err, ks.ErrNotInstalled):
		return Status{State: StateNotInstalled, Detail: "no " + plistPath}, nil
	case err != nil:
		return Status{}, fmt.Errorf("launchctl list %s: %w", Name, err)
	case st == ks.StatusRunning:
		return Status{State: StateRunning, Detail: plistPath}, nil
	case st == ks.StatusStopped:
		return Status{State: StateStopped, Detail: plistPath}, nil
	}
	return Status{State: StateUnknown, Detail: plistPath}, nil
}

func launchctl(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "launchctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("launchctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
