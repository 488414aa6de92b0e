package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
)

func newRestartCmd(g *globals) *cobra.Command {
	return newActionCmd(g, control.OpRestart, "restart",
		"Restart instances; --rolling restarts one at a time, each waiting for the previous to be ready", 10*time.Minute)
}
