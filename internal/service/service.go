// Package service registers openim-supervisor with the operating system's
// service manager: a systemd unit on Linux (rendered from the unit the
// packages ship, packaging/systemd/openim-server.service), a Windows service
// and a launchd daemon (both through github.com/kardianos/service).
//
// Every OS has the same five operations behind Manager. Install is safe to
// re-run: on Linux it rewrites the unit when the rendering changed and does
// nothing otherwise; on Windows and macOS an identical registration is a
// no-op and a different one is refused with ErrAlreadyInstalled (uninstall
// first).
package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Name is the service's name in every service manager.
const Name = "openim-server"

// DisplayName and Description are shown by the Windows service manager.
const (
	DisplayName = "OpenIM Server"
	Description = "Runs and restarts every OpenIM process (openim-supervisor)."
)

// ErrUnsupported is returned on an OS without a service manager integration.
var ErrUnsupported = errors.New("the OS service manager is not supported on this OS")

// ErrAlreadyInstalled is returned by Install when a different registration of
// the service exists; uninstall it first.
var ErrAlreadyInstalled = errors.New("service is already installed with different settings")

// Options describe the registration.
type Options struct {
	// Executable is the openim-supervisor binary the service runs
	// (default: the running executable).
	Executable string
	// ConfigPath is passed to `run --config` (made absolute).
	ConfigPath string
	// UnitDir is where the systemd unit is written on Linux
	// (default /etc/systemd/system). With a non-default dir systemctl is
	// not called: systemd does not load units from there.
	UnitDir string
	// LogDir receives the launchd daemon's stdout and stderr on macOS.
	LogDir string
}

// State is the service's state as the service manager reports it.
type State string

const (
	StateNotInstalled State = "not-installed"
	StateRunning      State = "running"
	StateStopped      State = "stopped"
	StateStarting     State = "starting"
	StateStopping     State = "stopping"
	StateUnknown      State = "unknown"
)

// Status is what `service status` shows.
type Status struct {
	State State
	// Detail is a one-line explanation (unit path, manager's raw state).
	Detail string
}

// Manager is the service manager integration of one OS.
type Manager interface {
	// Install registers (and on Linux enables) the service; it does not start it.
	Install(ctx context.Context) (InstallResult, error)
	// Uninstall stops the service if running and removes the registration.
	Uninstall(ctx context.Context) error
	Start(ctx context.Context) error
	// Stop asks the service to stop and waits until it stopped or ctx ends.
	Stop(ctx context.Context) error
	Status(ctx context.Context) (Status, error)
}

// InstallResult says what Install did.
type InstallResult struct {
	// Path is the unit/plist file, or the Windows service name.
	Path string
	// Changed is false when an identical registration already existed.
	Changed bool
	// Note is an extra line for the user (e.g. systemd is not running).
	Note string
}

// resolve fills in defaults and makes paths absolute.
func (o Options) resolve() (Options, error) {
	if o.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("find own executable: %w", err)
		}
		o.Executable = exe
	}
	exe, err := filepath.Abs(o.Executable)
	if err != nil {
		return o, fmt.Errorf("executable %s: %w", o.Executable, err)
	}
	o.Executable = exe
	if o.ConfigPath == "" {
		return o, errors.New("no config path given")
	}
	cfg, err := filepath.Abs(o.ConfigPath)
	if err != nil {
		return o, fmt.Errorf("config path %s: %w", o.ConfigPath, err)
	}
	o.ConfigPath = cfg
	return o, nil
}

// RunArgs are the arguments the service manager passes to the executable.
// --service makes `run` enter the Windows service dispatcher itself (wine and
// some hosts make svc.IsWindowsService report false).
func RunArgs(configPath string, windows bool) []string {
	if windows {
		return []string{"run", "--service", "--config", configPath}
	}
	return []string{"run", "--config", configPath}
}
