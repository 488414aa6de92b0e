package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("status: not implemented yet")
		},
	}
}
