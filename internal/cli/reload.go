package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newReloadCmd(g *globals) *cobra.Command {
	var f ctlFlags
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Re-read the config file: start added processes, stop removed ones, restart changed ones",
		Long: `Ask the running supervisor to re-read the config file it was started with
(the same as sending it SIGHUP). Added instances are started, removed ones
stopped, changed ones restarted; the others keep running untouched. An
invalid config is rejected with its error (exit 3) and nothing changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ctx, cancel := f.client(cmd, g)
			defer cancel()
			res, err := c.Reload(ctx)
			if err != nil {
				return ctlError(c, err)
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
	return cmd
}
