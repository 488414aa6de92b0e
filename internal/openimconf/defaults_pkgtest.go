//go:build pkgtest

package openimconf

import (
	"fmt"
	"strings"
)

// testDefaults: the files of the package-upgrade test release 3.8.4
// (-tags pkgtest), made from 3.8.3's the way OpenIM's main branch changes
// them: share.yml imAdminUserID becomes imAdminUser.userIDs (the rename the
// 3.8.4 config step declares) with a new imAdminUser.nicknames, a new
// rpcMaxBodySize section, and openim-api.yml's compressionLevel default
// goes from 0 to 1.
func testDefaults(version string) (map[string][]byte, bool) {
	v, err := CoreVersion(version)
	if err != nil || v.String() != "3.8.4" {
		return nil, false
	}
	files, err := Defaults("3.8.3")
	if err != nil {
		panic(err)
	}
	replace := func(name, old, new string) {
		s := string(files[name])
		if !strings.Contains(s, old) {
			panic(fmt.Sprintf("pkgtest defaults: %s has no %q", name, old))
		}
		files[name] = []byte(strings.Replace(s, old, new, 1))
	}
	replace("share.yml", "imAdminUserID: [ imAdmin ]",
		"# imAdminUser: the administrators (3.8.4 test release)\nimAdminUser:\n  userIDs: [ imAdmin ]\n  nicknames: [ superAdmin ]")
	files["share.yml"] = append(files["share.yml"], []byte("\n\n# rpcMaxBodySize: limits of one RPC (3.8.4 test release)\nrpcMaxBodySize:\n  requestMaxBodySize: 8388608\n  responseMaxBodySize: 8388608\n")...)
	replace("openim-api.yml", "compressionLevel: 0", "compressionLevel: 1")
	return files, true
}
