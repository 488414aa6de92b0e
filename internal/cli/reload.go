package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newReloadCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reload",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("reload: not implemented yet")
		},
	}
}
