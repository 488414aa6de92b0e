package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newLogsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logs",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("logs: not implemented yet")
		},
	}
}
