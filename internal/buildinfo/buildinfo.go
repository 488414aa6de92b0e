// Package buildinfo carries the versions stamped into the binary at build time
// (go build -ldflags "-X .../buildinfo.Version=... -X .../buildinfo.OpenIMVersion=...").
package buildinfo

// These are set by the linker; the defaults describe a development build.
var (
	// Version of openim-supervisor itself (from the git tag).
	Version = "0.0.0-dev"
	// OpenIMVersion is the OpenIM server version this build ships and migrates data to.
	OpenIMVersion = "3.8.3"
)

// Info is a snapshot of the build versions, passed down explicitly.
type Info struct {
	Version       string
	OpenIMVersion string
}

// Get returns the stamped versions.
func Get() Info { return Info{Version: Version, OpenIMVersion: OpenIMVersion} }
