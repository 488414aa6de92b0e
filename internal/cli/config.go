package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newConfigCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("config: not implemented yet")
		},
	}
}
