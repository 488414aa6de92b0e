package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
)

func newLogsCmd(g *globals) *cobra.Command {
	var f ctlFlags
	var follow, asJSON bool
	var lines int
	cmd := &cobra.Command{
		Use:   "logs all|NAME|NAME:INDEX|GLOB...",
		Short: "Print recent output of instances; -f follows new lines",
		Long: `Print the most recent output lines the supervisor kept in memory
(log.buffer per instance), oldest first; lines of several instances are
merged by time and prefixed with the instance. With -f, keep printing new
lines until interrupted. With --json, one JSON object per line
({"instance","time","stream","text"}). Under systemd the full history is in
the journal: journalctl -u openim-server OPENIM_PROCESS=NAME.

` + targetsHelp,
		Args:              needTargets,
		ValidArgsFunction: completeTargets(g, &f, true),
		RunE: func(cmd *cobra.Command, args []string) error {
			if lines < 0 {
				return withCode(ExitUsage, fmt.Errorf("-n must be >= 0"))
			}
			if follow {
				f.timeout = 0 // until interrupted
			}
			c, ctx, cancel, err := f.client(cmd, g)
			if err != nil {
				return err
			}
			defer cancel()
			// Prefix lines with the instance unless the targets select one instance.
			st, err := c.Status(ctx, args...)
			if err != nil {
				return ctlError(c, err)
			}
			prefix := len(st.Instances) != 1
			enc := json.NewEncoder(g.stdout)
			err = c.Logs(ctx, control.Request{Targets: args, Lines: lines, Follow: follow}, func(l control.LogLine) error {
				var err error
				switch {
				case asJSON:
					err = enc.Encode(l)
				case prefix:
					_, err = fmt.Fprintf(g.stdout, "%s | %s\n", l.Instance, l.Text)
				default:
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
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}
