//go:build !pkgtest

package cli

import "github.com/openim-supervisor/openim-supervisor/migrations"

// extraSources is empty in release builds (see upgrade_pkgtest.go).
func extraSources(string) []migrations.Source { return nil }
