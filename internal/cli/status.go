package cli

import (
	"encoding/json"
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
		Use:   "status",
		Short: "Show every process instance: pid, state, uptime, restarts, last exit",
		Long: `Show every process instance of the running supervisor as a table
(NAME INSTANCE PID STATE UPTIME RESTARTS LAST-EXIT) followed by a summary line,
or with --json the supervisor's own status document.

Exit status: 0 when no instance is failed, 1 when at least one is marked
failed (too many crashes; it is retried after the cool-down) so that scripts
and monitoring can alert, 4 when the supervisor is not running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ctx, cancel := f.client(cmd, g)
			defer cancel()
			st, err := c.Status(ctx)
			if err != nil {
				return ctlError(c, err)
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
					return err
				}
			} else {
				printStatus(g.stdout, st.Instances, time.Now())
				fmt.Fprintln(g.stdout, notify.Summary(st.Instances))
			}
			if failed := failedIDs(st.Instances); len(failed) > 0 {
				return withCode(ExitError, fmt.Errorf("%d instance(s) failed: %s", len(failed), strings.Join(failed, ", ")))
			}
			return nil
		},
	}
	f.add(cmd, 10*time.Second)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func failedIDs(st []supervisor.InstanceStatus) []string {
	var out []string
	for _, s := range st {
		if s.State == supervisor.StateFailed {
			out = append(out, s.ID())
		}
	}
	return out
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
