package cli

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
)

// Root returns the whole command tree, for generators of man pages and shell
// completions (packaging/mkpkg docs). Running it writes nowhere.
func Root(info buildinfo.Info) *cobra.Command {
	return newRootCmd(&globals{info: info, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
}
