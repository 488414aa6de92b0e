package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

func newStartCmd(g *globals) *cobra.Command {
	return newActionCmd(g, control.OpStart, "start", "Start stopped instances (waits until they are ready)", 5*time.Minute)
}

// newActionCmd builds start, stop and restart: each takes one or more
// targets (all, NAME or NAME:INDEX), asks the supervisor to act on them in
// turn and prints the resulting rows of the status table.
func newActionCmd(g *globals, op, use, short string, timeout time.Duration) *cobra.Command {
	var f ctlFlags
	var rolling bool
	cmd := &cobra.Command{
		Use:   use + " all|NAME|NAME:INDEX...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			targets := make([]supervisor.Target, 0, len(args))
			for _, a := range args {
				t, err := supervisor.ParseTarget(a)
				if err != nil {
					return withCode(ExitUsage, err)
				}
				targets = append(targets, t)
			}
			c, ctx, cancel := f.client(cmd, g)
			defer cancel()
			var last *control.StatusReply
			for _, t := range targets {
				resp, err := c.Do(ctx, control.Request{Op: op, Target: t.String(), Rolling: rolling})
				if err != nil {
					return ctlError(c, err)
				}
				last = resp.Status
			}
			if last == nil {
				return nil
			}
			var rows []supervisor.InstanceStatus
			for _, s := range last.Instances {
				for _, t := range targets {
					if t.All || (s.Name == t.Name && (t.Index < 0 || s.Index == t.Index)) {
						rows = append(rows, s)
						break
					}
				}
			}
			printStatus(g.stdout, rows, time.Now())
			return nil
		},
	}
	f.add(cmd, timeout)
	if op == control.OpRestart {
		cmd.Flags().BoolVar(&rolling, "rolling", false,
			"restart one instance at a time, each waiting until the previous one is ready again")
	}
	return cmd
}
