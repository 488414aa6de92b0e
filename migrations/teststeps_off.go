//go:build !pkgtest

package migrations

// testSteps is empty in real builds; see v3_8_4_pkgtest.go.
func testSteps() []Step { return nil }
