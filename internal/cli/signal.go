package cli

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
)

func newSignalCmd(g *globals) *cobra.Command {
	var f ctlFlags
	var asJSON, quiet bool
	cmd := &cobra.Command{
		Use:   "signal SIGNAL all|NAME|NAME:INDEX|GLOB...",
		Short: "Send a signal (HUP, USR1, ...) to instances' process groups",
		Long: `Send SIGNAL (a name: HUP, USR1, USR2, INT, TERM, KILL ...; with or without
SIG) to the process group of every selected instance that is running. The
supervisor changes nothing itself: a signal that ends a process is an exit
like any other, and the restart policy applies. To stop an instance for
good, use stop. Not available on Windows (exit 9).

` + targetsHelp,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("needs a signal name and a target, e.g. signal HUP openim-push")
			}
			return needTargets(cmd, args[1:])
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return []cobra.Completion{"HUP", "INT", "QUIT", "TERM", "KILL", "USR1", "USR2"}, cobra.ShellCompDirectiveNoFileComp
			}
			return completeTargets(g, &f, true)(cmd, args[1:], toComplete)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ctx, cancel, err := f.client(cmd, g)
			if err != nil {
				return err
			}
			defer cancel()
			var progress func(control.Progress)
			if !quiet {
				progress = newProgressPrinter(g.stderr).step
			}
			resp, err := c.DoProgress(ctx, control.Request{Op: control.OpSignal, Signal: args[0], Targets: args[1:]}, progress)
			if err != nil {
				return ctlError(c, err)
			}
			return printSelected(ctx, g, c, resp.Status, args[1:], asJSON)
		},
	}
	f.add(cmd, 30*time.Second)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the resulting status of the targets as JSON")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress lines")
	return cmd
}
