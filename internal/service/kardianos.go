//go:build windows || darwin

package service

import ks "github.com/kardianos/service"

// kardianos turns a registration into kardianos's Config.
func (r registration) kardianos() *ks.Config {
	return &ks.Config{Name: r.Name, DisplayName: r.DisplayName, Description: r.Description,
		Executable: r.Executable, Arguments: r.Arguments, Option: ks.KeyValue(r.Option)}
}

// program is the kardianos.Interface; only needed to build a Service for
// install/control, never run (run has its own dispatcher).
type program struct{}

func (program) Start(ks.Service) error { return nil }
func (program) Stop(ks.Service) error  { return nil }
