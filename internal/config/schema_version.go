//go:build !pkgtest

package config

// schemaVersion is CurrentVersion in real builds.
const schemaVersion = 2
