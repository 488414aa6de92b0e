// Package merge upgrades an operator's OpenIM config dir to the files of a
// newer OpenIM release the way Debian's ucf does, without asking: a
// three-way merge of the old release's shipped files (base), the new
// release's (theirs) and the operator's (mine), per key, on YAML nodes so
// that the operator's comments and order are kept.
//
//   - a key the operator left at the old default takes the new default;
//   - a key the operator changed keeps the operator's value;
//   - a key new in the new release is added with its default and comments;
//   - a key the new release dropped is removed if the operator left it at
//     the old default;
//   - keys renamed or moved between releases are carried by declared Ops
//     (config steps), applied to base and mine before the merge;
//   - a true conflict (the operator changed a key whose default also
//     changed, or removed one whose default changed, or changed one the
//     new release dropped) keeps the operator's version and is reported;
//     the new release's whole file is written next to it as NAME.yml.new.
package merge

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Op is one declared change of the config layout between two releases: a
// key renamed or moved (possibly to another file). Adds need no Op (they
// come from the new release's files); removals neither.
type Op struct {
	File, Key     string // where the key was
	ToFile, ToKey string // where it is now
}

func (o Op) String() string {
	if o.ToFile == o.File {
		return fmt.Sprintf("%s: %s -> %s", o.File, o.Key, o.ToKey)
	}
	return fmt.Sprintf("%s %s -> %s %s", o.File, o.Key, o.ToFile, o.ToKey)
}

// Conflict is a key where the operator's value was kept although the new
// release changed its default.
type Conflict struct {
	File, Key string
	Line      int    // in the merged file (0 when the key is gone)
	Mine      string // the operator's value (as YAML)
	Base, New string // the old and new defaults
	Why       string
}

func (c Conflict) String() string {
	loc := c.File
	if c.Line > 0 {
		loc = fmt.Sprintf("%s:%d", c.File, c.Line)
	}
	return fmt.Sprintf("%s: %s: %s (yours %s, old default %s, new default %s)", loc, c.Key, c.Why, c.Mine, c.Base, c.New)
}

// FileResult is the merge of one file.
type FileResult struct {
	Name      string
	Out       []byte // the merged file
	Changed   bool   // Out differs from the operator's file
	Added     []string
	Updated   []string // left at the old default: took the new default
	Removed   []string
	Moved     []string // by Ops
	Conflicts []Conflict
	// New is the new release's file, to write as NAME.yml.new when there
	// are conflicts.
	New []byte
}

// Dir merges every file of theirs. mine, base and theirs map file names to
// contents (a file missing from mine is taken from theirs; a file missing
// from base counts as new). ops are applied in order.
func Dir(mine, base, theirs map[string][]byte, ops []Op) ([]FileResult, error) {
	mineDocs, err := parseAll(mine)
	if err != nil {
		return nil, fmt.Errorf("your config: %w", err)
	}
	baseDocs, err := parseAll(base)
	if err != nil {
		return nil, fmt.Errorf("old defaults: %w", err)
	}
	theirDocs, err := parseAll(theirs)
	if err != nil {
		return nil, fmt.Errorf("new defaults: %w", err)
	}
	moved := map[string][]string{}
	for _, op := range ops {
		if applyOp(mineDocs, op) {
			moved[op.ToFile] = append(moved[op.ToFile], op.String())
			if op.File != op.ToFile {
				moved[op.File] = append(moved[op.File], op.String())
			}
		}
		applyOp(baseDocs, op)
	}
	var out []FileResult
	for _, name := range sortedKeys(theirDocs) {
		r := FileResult{Name: name, New: theirs[name], Moved: moved[name]}
		m := mineDocs[name]
		if m == nil {
			r.Out, r.Changed = theirs[name], true
			r.Added = []string{"(the whole file)"}
			out = append(out, r)
			continue
		}
		mergeFile(&r, root(m), root(baseDocs[name]), root(theirDocs[name]))
		b, err := render(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r.Out = b
		r.Changed = len(r.Added)+len(r.Updated)+len(r.Removed)+len(r.Moved) > 0
		if !r.Changed {
			r.Out = mine[name] // nothing to do: keep the operator's bytes exactly
		}
		out = append(out, r)
	}
	return out, nil
}

func parseAll(files map[string][]byte) (map[string]*yaml.Node, error) {
	out := map[string]*yaml.Node{}
	for name, b := range files {
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: not valid YAML: %w", name, err)
		}
		if len(doc.Content) == 0 {
			doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
		}
		if doc.Content[0].Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: not a mapping of keys", name)
		}
		out[name] = &doc
	}
	return out, nil
}

func root(doc *yaml.Node) *yaml.Node {
	if doc == nil || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

func render(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// leaf is a key whose value is not a mapping (lists are leaves).
type leaf struct {
	key  string
	node *yaml.Node
}

func leaves(m *yaml.Node) []leaf {
	var out []leaf
	var walk func(m *yaml.Node, prefix string)
	walk = func(m *yaml.Node, prefix string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			key := join(prefix, k.Value)
			if v.Kind == yaml.MappingNode && len(v.Content) > 0 {
				walk(v, key)
				continue
			}
			out = append(out, leaf{key, v})
		}
	}
	if m != nil {
		walk(m, "")
	}
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// find returns the key node, value node and parent mapping of a dotted key.
func find(m *yaml.Node, key string) (k, v, parent *yaml.Node, idx int) {
	cur := m
	parts := strings.Split(key, ".")
	for i, p := range parts {
		if cur == nil || cur.Kind != yaml.MappingNode {
			return nil, nil, nil, -1
		}
		found := -1
		for j := 0; j+1 < len(cur.Content); j += 2 {
			if cur.Content[j].Value == p {
				found = j
				break
			}
		}
		if found < 0 {
			return nil, nil, nil, -1
		}
		if i == len(parts)-1 {
			return cur.Content[found], cur.Content[found+1], cur, found
		}
		cur = cur.Content[found+1]
	}
	return nil, nil, nil, -1
}

func get(m *yaml.Node, key string) *yaml.Node {
	_, v, _, _ := find(m, key)
	return v
}

func same(a, b *yaml.Node) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if a.Decode(&x) != nil || b.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func show(n *yaml.Node) string {
	if n == nil {
		return "(none)"
	}
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	b, err := yaml.Marshal(&c)
	if err != nil {
		return "?"
	}
	s := strings.TrimSpace(string(b))
	if strings.Contains(s, "\n") {
		s = strings.ReplaceAll(s, "\n", " ")
	}
	return s
}

// mergeFile merges theirs into mine (in place) against base.
func mergeFile(r *FileResult, mine, base, theirs *yaml.Node) {
	conflict := func(key string, m, b, n *yaml.Node, why string) {
		line := 0
		if k, _, _, _ := find(mine, key); k != nil {
			line = k.Line
		}
		r.Conflicts = append(r.Conflicts, Conflict{File: r.Name, Key: key, Line: line, Mine: show(m), Base: show(b), New: show(n), Why: why})
	}
	theirLeaves := leaves(theirs)
	inTheirs := map[string]bool{}
	for _, l := range theirLeaves {
		inTheirs[l.key] = true
		m, b, n := get(mine, l.key), get(base, l.key), l.node
		switch {
		case m == nil && b == nil:
			insert(mine, theirs, l.key)
			r.Added = append(r.Added, l.key)
		case m == nil:
			if !same(b, n) {
				conflict(l.key, nil, b, n, "you removed this key and the new release changed its default; it stays removed")
			}
		case same(m, b) || (b == nil && same(m, n)):
			if !same(m, n) {
				replaceValue(m, n)
				r.Updated = append(r.Updated, l.key)
			}
		case b == nil:
			// the operator added a key the new release now also has: theirs wins? no, yours.
			if !same(m, n) {
				conflict(l.key, m, nil, n, "you set this key, which the new release now ships with another value; yours is kept")
			}
		case same(n, b) || same(n, m):
			// only the operator changed it (or both to the same value)
		default:
			conflict(l.key, m, b, n, "you changed this key and the new release changed its default too; yours is kept")
		}
	}
	for _, l := range leaves(mine) {
		if inTheirs[l.key] {
			continue
		}
		b := get(base, l.key)
		switch {
		case b == nil:
			// the operator's own key
		case same(l.node, b):
			remove(mine, l.key)
			r.Removed = append(r.Removed, l.key)
		default:
			conflict(l.key, l.node, b, nil, "the new release dropped this key, which you changed; it is kept but has no effect")
		}
	}
}

// replaceValue gives m the value of n, keeping m's comments.
func replaceValue(m, n *yaml.Node) {
	hc, lc, fc := m.HeadComment, m.LineComment, m.FootComment
	cp := deepCopy(n)
	*m = *cp
	m.HeadComment, m.LineComment, m.FootComment = hc, lc, fc
}

func deepCopy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = deepCopy(x)
	}
	return &c
}

// insert copies key (with its comments) from theirs into mine, creating
// parent sections, right after the key that precedes it in theirs (or at
// the end of its section).
func insert(mine, theirs *yaml.Node, key string) {
	parts := strings.Split(key, ".")
	mp, tp := mine, theirs
	for i, p := range parts {
		tk, tv, tparent, tidx := find(tp, p)
		_ = tparent
		mk, mv, _, _ := find(mp, p)
		last := i == len(parts)-1
		if mk == nil {
			nk, nv := deepCopy(tk), deepCopy(tv)
			if !last {
				nv = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: tv.Style, HeadComment: tv.HeadComment}
			}
			pos := len(mp.Content)
			// after the previous sibling in theirs, if mine has it
			for j := tidx - 2; j >= 0; j -= 2 {
				if _, _, _, at := find(mp, tp.Content[j].Value); at >= 0 {
					pos = at + 2
					break
				}
			}
			mp.Content = append(mp.Content[:pos], append([]*yaml.Node{nk, nv}, mp.Content[pos:]...)...)
			mv = nv
		}
		if last {
			return
		}
		mp, tp = mv, tv
	}
}

func remove(m *yaml.Node, key string) {
	_, _, parent, idx := find(m, key)
	if parent == nil {
		return
	}
	parent.Content = append(parent.Content[:idx], parent.Content[idx+2:]...)
}

// applyOp moves a key between files/places in docs (a no-op when the key is
// absent). It reports whether it moved something.
func applyOp(docs map[string]*yaml.Node, op Op) bool {
	src := root(docs[op.File])
	k, v, _, _ := find(src, op.Key)
	if k == nil {
		return false
	}
	remove(src, op.Key)
	dst := root(docs[op.ToFile])
	if dst == nil {
		doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
		docs[op.ToFile] = doc
		dst = doc.Content[0]
	}
	if get(dst, op.ToKey) != nil {
		return true // the new place is already set: it wins
	}
	parts := strings.Split(op.ToKey, ".")
	cur := dst
	for _, p := range parts[:len(parts)-1] {
		_, next, _, _ := find(cur, p)
		if next == nil || next.Kind != yaml.MappingNode {
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			cur.Content = append(cur.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}, next)
		}
		cur = next
	}
	nk := deepCopy(k)
	nk.Value = parts[len(parts)-1]
	cur.Content = append(cur.Content, nk, v)
	return true
}

func sortedKeys(m map[string]*yaml.Node) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
