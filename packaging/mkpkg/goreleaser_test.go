package main

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestGoreleaserIsGenerated: .goreleaser.yaml's nfpms section is what
// packaging/nfpm.yaml generates (run `go run ./packaging/mkpkg goreleaser`).
func TestGoreleaserIsGenerated(t *testing.T) {
	nf, err := os.ReadFile("../nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gr, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := spliceGoreleaser(gr, nf)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(gr) {
		t.Fatal(".goreleaser.yaml's nfpms section is stale: run `go run ./packaging/mkpkg goreleaser`")
	}
	var doc struct {
		Nfpms []struct {
			Contents []struct{ Src, Dst string } `yaml:"contents"`
		} `yaml:"nfpms"`
	}
	if err := yaml.Unmarshal(gr, &doc); err != nil || len(doc.Nfpms) != 1 {
		t.Fatalf(".goreleaser.yaml: %v, %d nfpms", err, len(doc.Nfpms))
	}
	var man bool
	for _, c := range doc.Nfpms[0].Contents {
		if strings.Contains(c.Src, "${") || strings.Contains(c.Src, "stage/bin/") {
			t.Errorf("goreleaser content %s -> %s: unmapped nfpm.yaml source", c.Src, c.Dst)
		}
		man = man || strings.HasPrefix(c.Dst, "/usr/share/man/")
	}
	if !man {
		t.Error("goreleaser packages ship no man pages")
	}
}

// TestGoreleaserSpliceFollowsNfpm: a change in nfpm.yaml shows in the output
// (the generator really reads it).
func TestGoreleaserSpliceFollowsNfpm(t *testing.T) {
	gr := []byte("x: 1\nnfpms:\n" + grBegin + "\n  - old\n" + grEnd + "\nchecksum: {}\n")
	nf := []byte("name: foo\ncontents:\n  - src: ${STAGE}/bin/openim-supervisor\n    dst: /usr/bin/openim-supervisor\n" +
		"  - src: ./packaging/x\n    dst: /etc/x\n    type: config|noreplace\n")
	out, err := spliceGoreleaser(gr, nf)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"package_name: foo", "src: packaging/x", "dst: /etc/x", "checksum: {}", "x: 1"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "- old") || strings.Contains(s, "/usr/bin/openim-supervisor") {
		t.Errorf("old section or the bindir binary left in:\n%s", s)
	}
	if _, err := spliceGoreleaser([]byte("nfpms: []\n"), nf); err == nil {
		t.Error("no markers: want an error")
	}
}
