package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
)

func newStopCmd(g *globals) *cobra.Command {
	return newActionCmd(g, control.OpStop, "stop",
		"Stop instances (stop signal, then KILL after the stop timeout); they stay stopped until started", 5*time.Minute)
}
