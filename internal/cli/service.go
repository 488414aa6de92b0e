package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newServiceCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "service",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("service: not implemented yet")
		},
	}
}
