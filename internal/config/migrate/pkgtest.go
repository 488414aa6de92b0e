//go:build pkgtest

package migrate

import "gopkg.in/yaml.v3"

// testSteps adds the schema step of the package tests' build (-tags pkgtest,
// config.CurrentVersion 3): it changes only the version, which is enough for
// the package upgrade to have to run `config migrate` before the service
// can start.
func testSteps() []Step {
	return []Step{{From: 2, Summary: "v2 -> v3: package test schema bump (no other change)",
		Apply: func(string, *yaml.Node) error { return nil }}}
}
