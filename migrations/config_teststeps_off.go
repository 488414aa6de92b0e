//go:build !pkgtest

package migrations

// testConfigSteps is empty in real builds; see config_pkgtest.go.
func testConfigSteps() []ConfigStep { return nil }
