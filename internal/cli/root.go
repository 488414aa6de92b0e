// Package cli is openim-supervisor's command line: one file per command, one
// exit point (Execute), exit codes in exitcodes.go.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/paths"
)

// EnvConfig names the environment variable that overrides the default config path.
const EnvConfig = "OPENIM_SUPERVISOR_CONFIG"

// globals is what every command shares: the streams, the build info and the
// --config flag. Commands receive it explicitly; there is no package state.
type globals struct {
	info       buildinfo.Info
	configPath string
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
}

// ConfigPath is the config file in effect: --config, else $OPENIM_SUPERVISOR_CONFIG,
// else the OS default.
func (g *globals) ConfigPath() string {
	if g.configPath != "" {
		return g.configPath
	}
	if p := os.Getenv(EnvConfig); p != "" {
		return p
	}
	return paths.DefaultConfigFile()
}

// Execute runs the command line and returns the process exit code.
func Execute(info buildinfo.Info, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{info: info, stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "Error:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "openim-supervisor",
		Short: "Install, run and upgrade the OpenIM server",
		Long: "openim-supervisor runs every OpenIM process (in order, with instance counts),\n" +
			"restarts crashes, stops cleanly, and migrates OpenIM's data on upgrades.\n\n" + exitCodesHelp(),
		Version:       fmt.Sprintf("%s (OpenIM %s)", g.info.Version, g.info.OpenIMVersion),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(ExitUsage, err) })
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", "",
		"config file (default $"+EnvConfig+" or "+paths.DefaultConfigFile()+")")
	root.AddCommand(
		newInitCmd(g),
		newConfigCmd(g),
		newRunCmd(g),
		newStatusCmd(g),
		newStartCmd(g),
		newStopCmd(g),
		newRestartCmd(g),
		newLogsCmd(g),
		newPidCmd(g),
		newSignalCmd(g),
		newReloadCmd(g),
		newServiceCmd(g),
		newUpgradeCmd(g),
		newDoctorCmd(g),
		newBundleCmd(g),
	)
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	enforceUsage(root)
	return root
}

// newHelpCmd is `help [command]`; an unknown topic is a usage error (exit 2),
// not cobra's "Unknown help topic" with exit 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if len(rest) > 0 {
				return subcommandError(cmd, rest)
			}
			return cmd.Help()
		},
	}
}
