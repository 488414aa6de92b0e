package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newReloadCmd(g *globals) *cobra.Command {
	var f ctlFlags
	var asJSON, allAtOnce bool
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Re-read the config file: start added processes, stop removed ones, restart changed ones",
		Long: `Ask the running supervisor to re-read the config file it was started with
(the same as sending it SIGHUP). Added instances are started, removed ones
stopped, changed ones restarted; the others keep running untouched. An
invalid config is rejected with its error (exit 3) and nothing changes.

Changed instances restart one at a time, each ready before the next (an
env-file edit changes every instance); --all-at-once restarts them
together (faster, with an outage). The supervisor logs the result.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ctx, cancel, err := f.client(cmd, g)
			if err != nil {
				return err
			}
			defer cancel()
			res, err := c.ReloadWith(ctx, allAtOnce)
			if err != nil {
				return ctlError(c, err)
			}
			if asJSON {
				return printJSON(g.stdout, res)
			}
			line := func(what string, ids []string) {
				if len(ids) > 0 {
					fmt.Fprintf(g.stdout, "%-9s %s\n", what+":", strings.Join(ids, " "))
				}
			}
			line("added", res.Added)
			line("removed", res.Removed)
			line("changed", res.Changed)
			fmt.Fprintf(g.stdout, "reloaded: %d added, %d removed, %d changed, %d unchanged\n",
				len(res.Added), len(res.Removed), len(res.Changed), res.Unchanged)
			return nil
		},
	}
	f.add(cmd, 10*time.Minute)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what changed as JSON")
	cmd.Flags().BoolVar(&allAtOnce, "all-at-once", false, "restart the changed instances together instead of one at a time")
	return cmd
}
