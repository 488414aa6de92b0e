package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/suggest"
)

// enforceUsage makes every command of the tree follow the exit-code table
// for usage errors: unknown flags, unknown commands and subcommands, too
// many or too few arguments all exit ExitUsage (2) with a one-line reason
// and, for a typo, "did you mean". It runs once the tree is complete
// (including cobra's help and completion commands).
func enforceUsage(cmd *cobra.Command) {
	if strings.HasPrefix(cmd.Name(), "__") { // cobra's hidden completion protocol
		return
	}
	switch {
	case cmd.HasSubCommands():
		// A group: without Args, cobra would print the help and exit 0 for
		// `config chekc`; with a RunE the unknown word becomes an error.
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(c *cobra.Command, args []string) error { return subcommandError(c, args) }
		for _, sub := range cmd.Commands() {
			enforceUsage(sub)
		}
	default:
		args := cmd.Args
		if args == nil {
			args = cobra.NoArgs
		}
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return withCode(ExitUsage, fmt.Errorf("%s: %s (see '%s --help')", c.CommandPath(), argsReason(err), c.CommandPath()))
			}
			return nil
		}
	}
}

// argsReason rewrites cobra's argument errors in the words of this tool.
func argsReason(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown command ") { // cobra.NoArgs
		word, _, _ := strings.Cut(strings.TrimPrefix(msg, "unknown command "), " for ")
		return "takes no arguments, got " + word
	}
	return msg
}

// subcommandError is the answer of a command group run without a valid
// subcommand: the list of subcommands, and a suggestion for a typo.
func subcommandError(c *cobra.Command, args []string) error {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	sort.Strings(names)
	if len(args) == 0 {
		return withCode(ExitUsage, fmt.Errorf("%s needs a command: %s (see '%s --help')",
			c.CommandPath(), strings.Join(names, ", "), c.CommandPath()))
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := suggest.Closest(args[0], names); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	} else {
		msg += "; the commands are " + strings.Join(names, ", ")
	}
	return withCode(ExitUsage, fmt.Errorf("%s", msg))
}
