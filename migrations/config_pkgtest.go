//go:build pkgtest

package migrations

import "github.com/openim-supervisor/openim-supervisor/internal/openimconf/merge"

// testConfigSteps: the package-upgrade test release 3.8.4 (-tags pkgtest)
// renames share.yml imAdminUserID to imAdminUser.userIDs, as OpenIM's main
// branch does after 3.8.3 (its files, internal/openimconf/defaults_pkgtest.go,
// also add imAdminUser.nicknames and rpcMaxBodySize and change
// openim-api.yml's compressionLevel default).
func testConfigSteps() []ConfigStep {
	return []ConfigStep{{
		Version:     "3.8.4",
		Name:        "config-admin-user",
		Description: "share.yml imAdminUserID -> imAdminUser.userIDs",
		Ops:         []merge.Op{{File: "share.yml", Key: "imAdminUserID", ToFile: "share.yml", ToKey: "imAdminUser.userIDs"}},
	}}
}
