package service

import "time"

// registration is what kardianos registers for the Windows service and the
// launchd daemon, in plain types: it is built and tested on every OS, while
// only the Windows and macOS builds link kardianos (kardianos.go). Its
// package init probes for the init system, which a Linux binary has no use
// for, at every start, the guardian's included (docs/design.md).
type registration struct {
	Name, DisplayName, Description string
	Executable                     string
	Arguments                      []string
	Option                         map[string]any // kardianos's KeyValue
}

// Windows recovery: restart the service after a failure, again on every
// further failure; the failure count resets after a day without one.
const (
	recoveryDelay       = 5 * time.Second
	recoveryResetPeriod = 24 * 60 * 60 // seconds
)

// windowsConfig is the kardianos registration of the Windows service.
// kardianos sets recovery actions only when OnFailure is non-empty, so it is
// always set here (see ../shared/facts/packaging.md).
func windowsConfig(o Options) registration {
	return registration{
		Name:        Name,
		DisplayName: DisplayName,
		Description: Description,
		Executable:  o.Executable,
		Arguments:   RunArgs(o.ConfigPath, true),
		Option: map[string]any{
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
func launchdConfig(o Options) registration {
	opt := map[string]any{
		"KeepAlive": true,
		"RunAtLoad": true,
	}
	if o.LogDir != "" {
		opt["LogDirectory"] = o.LogDir
	}
	return registration{
		Name:        Name,
		DisplayName: DisplayName,
		Description: Description,
		Executable:  o.Executable,
		Arguments:   RunArgs(o.ConfigPath, false),
		Option:      opt,
	}
}
