// Command openim-supervisor installs, runs and upgrades the OpenIM server.
package main

import (
	"os"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/cli"
)

func main() {
	os.Exit(cli.Execute(buildinfo.Get(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
