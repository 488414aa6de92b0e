//go:build !pkgtest

package openimconf

// testDefaults knows no test release in real builds.
func testDefaults(string) (map[string][]byte, bool) { return nil, false }
