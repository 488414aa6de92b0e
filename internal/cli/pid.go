package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newPidCmd(g *globals) *cobra.Command {
	var f ctlFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pid [all|NAME|NAME:INDEX|GLOB...]",
		Short: "Print the supervisor's pid, or the pids of instances",
		Long: `Without arguments, print the pid of the running supervisor. With targets,
print the pid of each selected instance that has a running process, one a
line in config order (as pidof does), for kill, perf or gdb; instances
without a process are left out (--json lists them with pid 0).

Exit status: 0 when every selected instance has a process, 10 when some
have none (their pids are still printed), 4 when the supervisor is not running.

` + targetsHelp,
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
			if len(args) == 0 {
				if asJSON {
					return printJSON(g.stdout, map[string]int{"pid": st.Supervisor.PID})
				}
				fmt.Fprintln(g.stdout, st.Supervisor.PID)
				return nil
			}
			type row struct {
				Instance string `json:"instance"`
				PID      int    `json:"pid"`
			}
			rows := make([]row, 0, len(st.Instances))
			var missing []string
			for _, s := range st.Instances {
				rows = append(rows, row{s.ID(), s.PID})
				if s.PID == 0 {
					missing = append(missing, s.ID()+" ("+string(s.State)+")")
				} else if !asJSON {
					fmt.Fprintln(g.stdout, s.PID)
				}
			}
			if asJSON {
				if err := printJSON(g.stdout, rows); err != nil {
					return err
				}
			}
			if len(missing) > 0 {
				return withCode(ExitNotUp, errors.New("no process for "+listSome(missing, 8)))
			}
			return nil
		},
	}
	f.add(cmd, 10*time.Second)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print instance and pid pairs as JSON")
	return cmd
}
