//go:build pkgtest

package cli

import (
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade"
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade/pkgtest"
	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// extraSources adds the package-upgrade test step to -tags pkgtest builds,
// at the OpenIM version the test build ships.
func extraSources(openimVersion string) []migrations.Source {
	v, err := upgrade.ParseVersion(openimVersion)
	if err != nil {
		return nil // the upgrade itself reports the bad version
	}
	return []migrations.Source{pkgtest.Source(v.String())}
}
