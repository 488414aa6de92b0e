package service

import (
	"time"

	ks "github.com/kardianos/service"
)

// Windows recovery: restart the service after a failure, again on every
// further failure; the failure count resets after a day without one.
const (
	recoveryDelay       = 5 * time.Second
	recoveryResetPeriod = 24 * 60 * 60 // seconds
)

// windowsConfig is the kardianos registration of the Windows service.
// kardianos sets recovery actions only when OnFailure is non-empty, so it is
// always set here (see ../shared/facts/packaging.md).
func windowsConfig(o Options) *ks.Config {
	return &ks.Config{
		Name:        Name,
		DisplayName: DisplayName,
		Description: Description,
		Executable:  o.Executable,
		Arguments:   RunArgs(o.ConfigPath, true),
		Option: ks.KeyValue{
			"StartType":              "automatic",
			"OnFailure":              "restart",
			"OnFailureDelayDuration": recoveryDelay.String(),
			"OnFailureResetPeriod":   recoveryResetPeriod,
		},
	}
}

// launchdConfig is the kardianos registration of the launchd daemon
// (/Library/LaunchDaemons/openim-server.plist): started at boot and kept
// alive, output to <LogDir>/openim-server.{out,err}.log.
func launchdConfig(o Options) *ks.Config {
	opt := ks.KeyValue{
		"KeepAlive": true,
		"RunAtLoad": true,
	}
	if o.LogDir != "" {
		opt["LogDirectory"] = o.LogDir
	}
	return &ks.Config{
		Name:        Name,
		DisplayName: DisplayName,
		Description: Description,
		Executable:  o.Executable,
		Arguments:   RunArgs(o.ConfigPath, false),
		Option:      opt,
	}
}

// program is the kardianos.Interface; only needed to build a Service for
// install/control, never run (run has its own dispatcher).
type program struct{}

func (program) Start(ks.Service) error { return nil }
func (program) Stop(ks.Service) error  { return nil }
