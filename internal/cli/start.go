package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newStartCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("start: not implemented yet")
		},
	}
}
