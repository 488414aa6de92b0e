package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/packaging"
)

// DefaultUnitDir is where systemd loads administrator units from.
const DefaultUnitDir = "/etc/systemd/system"

const unitName = Name + ".service"

type systemdManager struct {
	opts     Options
	unitPath string
	// managed: the unit dir is systemd's, so systemctl is called.
	managed bool
}

// New returns the systemd integration.
func New(opts Options) (Manager, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	dir := o.UnitDir
	if dir == "" {
		dir = DefaultUnitDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("unit dir %s: %w", dir, err)
	}
	return &systemdManager{
		opts:     o,
		unitPath: filepath.Join(abs, unitName),
		managed:  filepath.Clean(abs) == DefaultUnitDir,
	}, nil
}

// systemdBooted reports whether systemd is the running init (sd_booted).
func systemdBooted() bool {
	fi, err := os.Lstat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

func (m *systemdManager) Install(ctx context.Context) (InstallResult, error) {
	res := InstallResult{Path: m.unitPath}
	unit, err := RenderUnit(packaging.SystemdUnit, m.opts.Executable, m.opts.ConfigPath)
	if err != nil {
		return res, fmt.Errorf("render %s: %w", unitName, err)
	}
	old, err := os.ReadFile(m.unitPath)
	switch {
	case err == nil && bytes.Equal(old, []byte(unit)):
		res.Changed = false
	case err == nil || errors.Is(err, fs.ErrNotExist):
		if err := writeFileAtomic(m.unitPath, []byte(unit), 0o644); err != nil {
			return res, err
		}
		res.Changed = true
	default:
		return res, fmt.Errorf("read %s: %w", m.unitPath, err)
	}
	if !m.managed {
		res.Note = "unit written outside " + DefaultUnitDir + "; systemctl not called"
		return res, nil
	}
	if !systemdBooted() {
		res.Note = "systemd is not running here; enable the unit once it is: systemctl enable --now " + unitName
		return res, nil
	}
	if res.Changed {
		if err := systemctl(ctx, "daemon-reload"); err != nil {
			return res, err
		}
	}
	if err := systemctl(ctx, "enable", unitName); err != nil {
		return res, err
	}
	return res, nil
}

func (m *systemdManager) Uninstall(ctx context.Context) error {
	if _, err := os.Stat(m.unitPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is not installed (no %s)", Name, m.unitPath)
	}
	if m.managed && systemdBooted() {
		if err := systemctl(ctx, "disable", "--now", unitName); err != nil {
			return err
		}
	}
	if err := os.Remove(m.unitPath); err != nil {
		return fmt.Errorf("remove unit: %w", err)
	}
	if m.managed && systemdBooted() {
		return systemctl(ctx, "daemon-reload")
	}
	return nil
}

func (m *systemdManager) requireSystemd() error {
	if !m.managed {
		return fmt.Errorf("the unit in %s is not loaded by systemd", filepath.Dir(m.unitPath))
	}
	if !systemdBooted() {
		return errors.New("systemd is not running (no /run/systemd/system)")
	}
	return nil
}

func (m *systemdManager) Start(ctx context.Context) error {
	if err := m.requireSystemd(); err != nil {
		return err
	}
	return systemctl(ctx, "start", unitName)
}

func (m *systemdManager) Stop(ctx context.Context) error {
	if err := m.requireSystemd(); err != nil {
		return err
	}
	return systemctl(ctx, "stop", unitName)
}

func (m *systemdManager) Status(ctx context.Context) (Status, error) {
	if _, err := os.Stat(m.unitPath); errors.Is(err, fs.ErrNotExist) {
		return Status{State: StateNotInstalled, Detail: "no " + m.unitPath}, nil
	}
	if err := m.requireSystemd(); err != nil {
		return Status{State: StateUnknown, Detail: m.unitPath + ": " + err.Error()}, nil
	}
	// is-active exits non-zero for every state but active; its output is the state.
	out, err := exec.CommandContext(ctx, "systemctl", "is-active", unitName).Output()
	state := strings.TrimSpace(string(out))
	if state == "" && err != nil {
		return Status{}, fmt.Errorf("systemctl is-active %s: %w", unitName, err)
	}
	st := Status{Detail: m.unitPath + " (" + state + ")"}
	switch state {
	case "active", "reloading":
		st.State = StateRunning
	case "activating":
		st.State = StateStarting
	case "deactivating":
		st.State = StateStopping
	case "inactive", "failed":
		st.State = StateStopped
	default:
		st.State = StateUnknown
	}
	return st, nil
}

func systemctl(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// writeFileAtomic writes via a temp file and rename, so systemd never reads
// half a unit.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}
