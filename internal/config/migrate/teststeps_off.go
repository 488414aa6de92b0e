//go:build !pkgtest

package migrate

// testSteps is empty in real builds; see pkgtest.go.
func testSteps() []Step { return nil }
