package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/notify"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

func newStatusCmd(g *globals) *cobra.Command {
	var f ctlFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [all|NAME|NAME:INDEX|GLOB...]",
		Short: "Show process instances: pid, state, uptime, restarts, last exit",
		Long: `Show the instances of the running supervisor (every one, or those the
arguments select: NAME, NAME:INDEX, or a glob like 'openim-rpc-*') as a table
(NAME INSTANCE PID STATE UPTIME RESTARTS LAST-EXIT) followed by a summary
line, or with --json the supervisor's own status document (times that are
not set are left out).

States: pending (not started yet), starting (started, not yet ready),
running (ready), backoff (crashed, restart scheduled), stopping, stopped
(by request), exited (ended; its restart policy does not restart it),
failed (too many crashes; retried after the cool-down).

Exit status, so that scripts and monitoring can wait and alert:
  0   every selected instance is running (or exited 0 under a policy that
      does not restart it)
  1   an instance is failed, or exited with an error and is not restarted
  10  not everything is up yet (pending, starting, backoff, stopping,
      stopped), none failed
  4   the supervisor is not running
  8   an argument selects no instance`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeTargets(g, &f, false),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ctx, cancel, err := f.client(cmd, g)
			if err != nil {
				return err
			}
			defer cancel()
			st, err := c.Status(ctx, args...)
			if err != nil {
				return ctlError(c, err)
			}
			if asJSON {
				if err := printJSON(g.stdout, st); err != nil {
					return err
				}
			} else {
				printStatus(g.stdout, st.Instances, time.Now())
				fmt.Fprintln(g.stdout, notify.Summary(st.Instances))
			}
			return statusExit(st.Instances)
		},
	}
	f.add(cmd, 10*time.Second)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

// statusExit is status's exit code: 0 when every instance is up, 1 when one
// needs a person (failed, or exited with an error and not restarted), 10
// while others are on their way (or stopped).
func statusExit(st []supervisor.InstanceStatus) error {
	var bad, notUp []string
	for _, s := range st {
		switch {
		case s.State == supervisor.StateRunning:
		case s.State == supervisor.StateExited && s.LastExit != nil && s.LastExit.Code == 0 && s.LastExit.Err == "":
		case s.State == supervisor.StateFailed || s.State == supervisor.StateExited:
			bad = append(bad, s.ID()+" ("+string(s.State)+")")
		default:
			notUp = append(notUp, s.ID()+" ("+string(s.State)+")")
		}
	}
	switch {
	case len(bad) > 0:
		return withCode(ExitError, fmt.Errorf("%d instance(s) need attention: %s", len(bad), listSome(bad, 8)))
	case len(notUp) > 0:
		return withCode(ExitNotUp, fmt.Errorf("%d of %d instance(s) not up yet: %s", len(notUp), len(st), listSome(notUp, 8)))
	}
	return nil
}

// listSome joins up to n items and says how many more there are.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

// printStatus prints the status table. Every column but the last is one
// word and empty cells are "-", so awk '{print $4}' is always the state.
func printStatus(w io.Writer, st []supervisor.InstanceStatus, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tINSTANCE\tPID\tSTATE\tUPTIME\tRESTARTS\tLAST-EXIT")
	for _, s := range st {
		pid, uptime := "-", "-"
		if s.PID > 0 {
			pid = strconv.Itoa(s.PID)
			if !s.StartedAt.IsZero() {
				uptime = humanDuration(now.Sub(s.StartedAt))
			}
		}
		last := lastExit(s.LastExit, now)
		if !s.NextStart.IsZero() && (s.State == supervisor.StateBackoff || s.State == supervisor.StateFailed) {
			last += "; retry in " + humanDuration(s.NextStart.Sub(now))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\n", s.Name, s.Index, pid, s.State, uptime, s.Restarts, last)
	}
	tw.Flush()
}

func lastExit(e *supervisor.Exit, now time.Time) string {
	if e == nil {
		return "-"
	}
	var what string
	switch {
	case e.Err != "":
		what = "start error: " + e.Err
	case e.Signal != "":
		what = fmt.Sprintf("signal %s (%d)", e.Signal, e.Code)
	default:
		what = fmt.Sprintf("exit %d", e.Code)
	}
	if !e.Time.IsZero() {
		what += ", " + humanDuration(now.Sub(e.Time)) + " ago"
	}
	return what
}

// humanDuration is a short duration: 45s, 3m12s, 2h5m, 3d4h.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}
