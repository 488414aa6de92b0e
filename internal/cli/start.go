package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
)

func newStartCmd(g *globals) *cobra.Command {
	return newActionCmd(g, control.OpStart, "start", "Start stopped instances (waits until they are ready)", 5*time.Minute)
}

// targetsHelp explains the target arguments of the commands that take them.
const targetsHelp = `Targets: all, NAME (every instance of a process), NAME:INDEX (one
instance), or a glob of names in quotes ('openim-rpc-*', 'openim-push:3').
Several targets are handled in config order (stop: in reverse).`

// needTargets requires at least one target argument.
func needTargets(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return errors.New("needs a target: all, NAME, NAME:INDEX or a glob like 'openim-rpc-*'")
	}
	return nil
}

// newActionCmd builds start, stop and restart: each takes one or more
// targets, asks the supervisor to act on them (reporting each step as it
// goes: a bar on a terminal, plain lines otherwise, on stderr) and prints
// the resulting rows of the status table, or with --json the status document.
func newActionCmd(g *globals, op, use, short string, timeout time.Duration) *cobra.Command {
	var f ctlFlags
	var rolling, asJSON, quiet bool
	cmd := &cobra.Command{
		Use:               use + " all|NAME|NAME:INDEX|GLOB...",
		Short:             short,
		Long:              short + ".\n\n" + targetsHelp,
		Args:              needTargets,
		ValidArgsFunction: completeTargets(g, &f, true),
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
			resp, err := c.DoProgress(ctx, control.Request{Op: op, Targets: args, Rolling: rolling}, progress)
			if err != nil {
				return ctlError(c, err)
			}
			return printSelected(ctx, g, c, resp.Status, args, asJSON)
		},
	}
	f.add(cmd, timeout)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the resulting status of the targets as JSON")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress lines")
	if op == control.OpRestart {
		cmd.Flags().BoolVar(&rolling, "rolling", false,
			"restart one instance at a time, each waiting until the previous one is ready again")
	}
	return cmd
}

// printSelected prints the rows of the targets after an action: the status
// the action answered, narrowed to the targets by asking for their status.
func printSelected(ctx context.Context, g *globals, c *control.Client, st *control.StatusReply, targets []string, asJSON bool) error {
	if st == nil {
		return nil
	}
	if narrowed, err := c.Status(ctx, targets...); err == nil {
		st = narrowed
	}
	if asJSON {
		return printJSON(g.stdout, st)
	}
	printStatus(g.stdout, st.Instances, time.Now())
	return nil
}
