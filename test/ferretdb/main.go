// Command ferretdb-test is a MongoDB-wire server for openim-supervisor's
// tests: FerretDB v1.24.0 embedded with its SQLite handler. It is a separate
// module so FerretDB stays out of the main module's dependencies.
//
//	ferretdb-test -listen 127.0.0.1:27018 -dir .cache/ferretdb
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27018", "TCP address to listen on (loopback)")
	dir := flag.String("dir", ".cache/ferretdb", "SQLite state directory")
	verbose := flag.Bool("v", false, "log at info level (default: warnings only)")
	flag.Parse()
	if err := run(*listen, *dir, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-test:", err)
		os.Exit(1)
	}
}

func run(listen, dir string, verbose bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", abs, err)
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return fmt.Errorf("start FerretDB: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(os.Stderr, "ferretdb-test: listening on", listen, "sqlite dir", abs)
	return f.Run(ctx)
}
