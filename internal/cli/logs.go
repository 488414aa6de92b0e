package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

func newLogsCmd(g *globals) *cobra.Command {
	var f ctlFlags
	var follow bool
	var lines int
	cmd := &cobra.Command{
		Use:   "logs all|NAME|NAME:INDEX",
		Short: "Print recent output of instances; -f follows new lines",
		Long: `Print the most recent output lines the supervisor kept in memory
(log.buffer per instance), oldest first; lines of several instances are
merged by time and prefixed with the instance. With -f, keep printing new
lines until interrupted. Under systemd the full history is in the journal:
journalctl -u openim-server OPENIM_PROCESS=NAME.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := supervisor.ParseTarget(args[0])
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if lines < 0 {
				return withCode(ExitUsage, fmt.Errorf("-n must be >= 0"))
			}
			if follow {
				f.timeout = 0 // until interrupted
			}
			c, ctx, cancel := f.client(cmd, g)
			defer cancel()
			// Prefix lines with the instance unless the target is one instance.
			prefix := t.All || t.Index < 0
			if prefix && !t.All {
				if st, err := c.Status(ctx); err == nil {
					n := 0
					for _, s := range st.Instances {
						if s.Name == t.Name {
							n++
						}
					}
					prefix = n > 1
				}
			}
			err = c.Logs(ctx, control.Request{Target: t.String(), Lines: lines, Follow: follow}, func(l control.LogLine) error {
				var err error
				if prefix {
					_, err = fmt.Fprintf(g.stdout, "%s | %s\n", l.Instance, l.Text)
				} else {
					_, err = fmt.Fprintln(g.stdout, l.Text)
				}
				return err
			})
			if err != nil && !(follow && ctx.Err() != nil) {
				return ctlError(c, err)
			}
			return nil
		},
	}
	f.add(cmd, 30*time.Second)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	cmd.Flags().IntVarP(&lines, "lines", "n", 20, "number of recent lines to print first")
	return cmd
}
