// Command openim-supervisor installs, runs and upgrades the OpenIM server.
package main

import (
	"context"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/cli"
	"github.com/openim-supervisor/openim-supervisor/internal/process"
)

// quietRedis drops go-redis's own log lines ("connection pool: failed to
// dial ..."): every Redis error reaches our callers as an error, which they
// report with context; the library's copy only garbled doctor's output.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func main() {
	process.RunGuardianIfAsked()  // see process.Guardian: this binary is also its own guardian
	redis.SetLogger(quietRedis{}) // the library's one logger, set once before any client exists
	os.Exit(cli.Execute(buildinfo.Get(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
