package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newUpgradeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "upgrade",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("upgrade: not implemented yet")
		},
	}
}
