package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newRestartCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "restart",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("restart: not implemented yet")
		},
	}
}
