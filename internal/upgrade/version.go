package upgrade

import (
	"fmt"
	"regexp"
	"strings"

	version "github.com/hashicorp/go-version"
)

// packageRevision matches what package managers append to an upstream
// version: a Debian revision or rpm release ("-1", "-1.el9", "-2+deb12u1",
// "-r3" for apk). It starts with a digit (or apk's "r<digits>"), which a
// SemVer prerelease like "-patch.16" or "-rc.1" does not.
var packageRevision = regexp.MustCompile(`-(r?[0-9]+)([.+~][0-9A-Za-z.+~]*)?$`)

// ParseVersion is the one rule for versions handed to us (by --from, --to,
// the package manager, OpenIM's own tags, or our state record):
//
//   - a leading "v" is dropped ("v3.8.3" = "3.8.3");
//   - a trailing package revision -<digits>[.<anything>] is dropped
//     ("3.8.3-1", "3.8.3-1.el9", "3.8.3-r2"): it is not a prerelease;
//   - anything else after "-" is OpenIM's own suffix ("3.8.3-patch.16") and
//     is kept in the result's Original but ignored when comparing;
//   - the result is the core version X.Y.Z, which is what we compare.
//
// Versions with fewer segments are padded ("3.8" = "3.8.0").
func ParseVersion(s string) (*version.Version, error) {
	in := strings.TrimSpace(s)
	t := strings.TrimPrefix(strings.TrimPrefix(in, "v"), "V")
	// An epoch ("1:3.8.3-1") from dpkg is dropped too.
	if i := strings.Index(t, ":"); i > 0 && !strings.ContainsAny(t[:i], ".-") {
		t = t[i+1:]
	}
	t = packageRevision.ReplaceAllString(t, "")
	v, err := version.NewVersion(t)
	if err != nil {
		return nil, fmt.Errorf("version %q: %w", in, err)
	}
	seg := v.Segments()
	for len(seg) < 3 {
		seg = append(seg, 0)
	}
	core, err := version.NewVersion(fmt.Sprintf("%d.%d.%d", seg[0], seg[1], seg[2]))
	if err != nil {
		return nil, fmt.Errorf("version %q: %w", in, err)
	}
	return core, nil
}
