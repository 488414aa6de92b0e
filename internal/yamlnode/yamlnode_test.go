package yamlnode

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestFindRemovePath(t *testing.T) {
	var doc yaml.Node
	src := "a: 1\n# about b\nb:\n  c:\n    d: deep\n  e: [1]\nf: last\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	if i := Index(m, "b"); i != 2 {
		t.Fatalf("Index(b) = %d, want 2", i)
	}
	if Index(m, "zz") != -1 || Index(nil, "a") != -1 || Index(Value(m, "a"), "a") != -1 {
		t.Fatal("Index of an absent key, of nil or of a scalar is not -1")
	}
	if v := Value(m, "f"); v == nil || v.Value != "last" {
		t.Fatalf("Value(f) = %v", v)
	}
	if v := Path(m, "b.c.d"); v == nil || v.Value != "deep" {
		t.Fatalf("Path(b.c.d) = %v", v)
	}
	if Path(m, "b.e.x") != nil || Path(m, "b.zz.d") != nil || Path(m, "a.b") != nil {
		t.Fatal("Path through a sequence, an absent key or a scalar is not nil")
	}
	k, v := Remove(m, "b")
	if k == nil || k.HeadComment != "# about b" || Value(v, "e") == nil {
		t.Fatalf("Remove(b) = %v, %v", k, v)
	}
	if Value(m, "b") != nil || len(m.Content) != 4 || Value(m, "f").Value != "last" {
		t.Fatalf("after Remove(b): %d nodes", len(m.Content))
	}
	if k, v := Remove(m, "b"); k != nil || v != nil {
		t.Fatal("Remove of an absent key returned nodes")
	}
}
