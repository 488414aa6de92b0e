// Package goreleaser checks .goreleaser.yaml with goreleaser's own loader:
// every key must be one goreleaser v2.12.7 knows (strict YAML into
// config.Project), and the project must build and package what the
// packages ship. scripts/test.d/45-goreleaser.sh runs it; the full
// `goreleaser check` and snapshot release run there when goreleaser is
// installed (or GORELEASER_CHECK_ONLY=0).
package goreleaser

import (
	"slices"
	"testing"

	"github.com/goreleaser/goreleaser/v2/pkg/config"
)

func TestConfigLoadsStrictly(t *testing.T) {
	p, err := config.Load("../../.goreleaser.yaml")
	if err != nil {
		t.Fatalf("goreleaser's loader refuses .goreleaser.yaml: %v", err)
	}
	if p.Version != 2 {
		t.Errorf("version = %d, want 2 (goreleaser v2)", p.Version)
	}
	var ids []string
	for _, b := range p.Builds {
		ids = append(ids, b.ID)
	}
	if !slices.Contains(ids, "openim-supervisor") {
		t.Errorf("no build with id openim-supervisor (builds: %v)", ids)
	}
	if len(p.NFPMs) == 0 {
		t.Fatal("no nfpms section: no deb, rpm, apk or archlinux")
	}
	var formats []string
	for _, n := range p.NFPMs {
		formats = append(formats, n.Formats...)
	}
	for _, f := range []string{"deb", "rpm", "apk", "archlinux"} {
		if !slices.Contains(formats, f) {
			t.Errorf("nfpms formats %v lack %s", formats, f)
		}
	}
}
