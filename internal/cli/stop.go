package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the real command.
func newStopCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "(not built yet)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("stop: not implemented yet")
		},
	}
}
