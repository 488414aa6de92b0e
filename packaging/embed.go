// Package packaging embeds the service definitions shipped by the packages, so
// that `openim-supervisor service install` renders exactly the same units.
package packaging

import _ "embed"

// SystemdUnit is packaging/systemd/openim-server.service.
//
//go:embed systemd/openim-server.service
var SystemdUnit string
