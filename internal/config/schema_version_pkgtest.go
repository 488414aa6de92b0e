//go:build pkgtest

package config

// schemaVersion of the package tests' "newer" build (-tags pkgtest): one past
// the real schema, so that the package upgrade test proves that postinst
// migrates the admin's config when our schema changes
// (internal/config/migrate/pkgtest.go has the step).
const schemaVersion = 3
