package upgrade

import (
	"context"
	"fmt"
	"strings"
)

// Supervisor is a running openim-supervisor as the upgrade sees it. The CLI
// passes a client of the control socket; the upgrade never imports it.
type Supervisor interface {
	// Running returns the supervisor's pid and the OpenIM instances it has
	// running or starting (name:index); ok is false when no supervisor
	// answers on the socket.
	Running(ctx context.Context) (pid int, running []string, ok bool, err error)
	// StopAll stops every instance; they stay stopped until started again.
	StopAll(ctx context.Context) error
}

// coordinate makes sure OpenIM does not run during the upgrade: with no
// supervisor or nothing running it passes; with StopOpenIM (or a yes at the
// prompt) it stops every instance through the supervisor; otherwise it
// refuses with the command to run. It returns whether it stopped OpenIM.
func (u *Upgrader) coordinate(ctx context.Context) (stopped bool, err error) {
	sup := u.o.Supervisor
	if sup == nil {
		return false, nil
	}
	pid, running, ok, err := sup.Running(ctx)
	if err != nil {
		return false, &RefusedError{Msg: fmt.Sprintf("cannot tell whether a supervisor runs OpenIM: %v; "+
			"run the upgrade as a user allowed to use the control socket (e.g. root or the openim group), "+
			"or stop the service first (systemctl stop openim-server)", err)}
	}
	if !ok || len(running) == 0 {
		return false, nil
	}
	list := strings.Join(running, ", ")
	if len(running) > 6 {
		list = strings.Join(running[:6], ", ") + fmt.Sprintf(", ... (%d in all)", len(running))
	}
	stop := u.o.StopOpenIM
	if !stop && u.o.Interactive && !u.o.Yes {
		fmt.Fprintf(u.out, "The supervisor (pid %d) is running OpenIM: %s.\n", pid, list)
		stop = confirm(u.o.In, u.out, "Stop every OpenIM process now for the upgrade?")
	}
	if !stop {
		return false, &RefusedError{Msg: fmt.Sprintf("the supervisor (pid %d) is running OpenIM (%s); OpenIM must not "+
			"write while its data is migrated. Stop it first: `openim-supervisor stop all` (or `systemctl stop openim-server`), "+
			"then re-run; or pass --stop-openim to let the upgrade stop it", pid, list)}
	}
	u.log.Info("stopping OpenIM through the supervisor for the upgrade", "pid", pid, "instances", len(running))
	if err := sup.StopAll(ctx); err != nil {
		return false, fmt.Errorf("stop OpenIM through the supervisor (pid %d): %w", pid, err)
	}
	if _, still, _, err := sup.Running(ctx); err != nil || len(still) > 0 {
		return true, fmt.Errorf("OpenIM still runs after stop (%v, %v)", still, err)
	}
	fmt.Fprintf(u.out, "Stopped OpenIM (%d instances) through the supervisor (pid %d).\n", len(running), pid)
	return true, nil
}
