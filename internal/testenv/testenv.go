// Package testenv is what tests ask of the machine: the servers and tools of
// scripts/test-services.sh, named by OPENIM_TEST_* variables. A test whose
// prerequisite is missing is skipped on a developer's machine and fails
// under OPENIM_TEST_STRICT=1 (CI), where every prerequisite must be there.
package testenv

import (
	"os"
	"testing"
)

// Strict reports whether a missing prerequisite fails the test (CI).
func Strict() bool { return os.Getenv("OPENIM_TEST_STRICT") == "1" }

// Missing skips the test, or fails it under Strict, saying why.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Strict() {
		t.Fatal("prerequisite missing (OPENIM_TEST_STRICT=1): " + why)
	}
	t.Skip(why)
}

// Var returns the environment variable name, or calls Missing when it is
// empty.
func Var(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(t, name+" is not set: run scripts/test-services.sh start and . .cache/test-env.sh")
	}
	return v
}
