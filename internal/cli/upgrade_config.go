package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf/merge"
	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// `config upgrade`: the OpenIM config step of `upgrade` alone
// (migrations.Config, internal/openimconf/merge). The package scripts run
// it as root before the data upgrade, which runs as the service user and
// then finds the config step applied.
func newConfigUpgradeCmd(g *globals) *cobra.Command {
	var from string
	var plan bool
	cmd := &cobra.Command{
		Use:   "upgrade",
		Short: "Merge the OpenIM config dir into the files of the OpenIM version this binary ships",
		Long: "The OpenIM config step of `openim-supervisor upgrade` alone: a three-way merge of the files\n" +
			"the dir's OpenIM release shipped, the files of the release this binary ships and yours, after\n" +
			"the config steps in between (renamed and moved keys). Your edits and comments are kept; a true\n" +
			"conflict keeps your value and leaves the new file as NAME.yml.new; nothing is asked.\n" +
			"--from names the release an unstamped dir is for (the package scripts pass the old package\n" +
			"version; default 3.8.3).",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := config.LoadWith(g.ConfigPath(), config.Options{SkipFileChecks: true})
			if err != nil {
				return withCode(ExitConfig, err)
			}
			_, err = merge.Upgrade(merge.Options{Dir: cfg.Paths.OpenIMConfigDir, StateDir: cfg.Paths.StateDir,
				From: from, To: shippedOpenIM(g.info.OpenIMVersion), Steps: migrations.MergeSteps(), Plan: plan, Out: g.stdout})
			switch {
			case errors.Is(err, merge.ErrDowngrade):
				return withCode(ExitRefused, fmt.Errorf("upgrade refused: %w", err))
			case err != nil:
				return withCode(ExitError, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the OpenIM release an unstamped config dir is for")
	cmd.Flags().BoolVar(&plan, "plan", false, "print the merge and write nothing")
	return cmd
}
