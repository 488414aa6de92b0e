package openimconf

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Set sets a dotted key of the file to value (string, bool, int, []string or
// []int), keeping the key's place, its comments and a list's flow style;
// a key that does not exist is added at the end of its section (sections
// are created as needed).
func (f *File) Set(key string, value any) error {
	if f.Root == nil {
		f.Root = &yaml.Node{Kind: yaml.MappingNode}
		f.Doc = &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{f.Root}}
	}
	parts := strings.Split(key, ".")
	m := f.Root
	for i, p := range parts {
		_, v := lookup(m, p)
		last := i == len(parts)-1
		if v == nil {
			k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}
			v = &yaml.Node{Kind: yaml.MappingNode}
			if last {
				v = &yaml.Node{}
			}
			m.Content = append(m.Content, k, v)
		}
		if last {
			return setNode(v, value)
		}
		if v.Kind != yaml.MappingNode {
			// a null (or scalar) where a section is wanted becomes one
			*v = yaml.Node{Kind: yaml.MappingNode, Line: v.Line, Column: v.Column, HeadComment: v.HeadComment, LineComment: v.LineComment}
		}
		m = v
	}
	return nil
}

// Get returns the value node of a dotted key, nil when absent.
func (f *File) Get(key string) *yaml.Node {
	if f.Root == nil {
		return nil
	}
	_, v := lookup(f.Root, key)
	return v
}

// Delete removes a dotted key (and its comments); it reports whether the key was there.
func (f *File) Delete(key string) bool {
	if f.Root == nil {
		return false
	}
	parent := f.Root
	parts := strings.Split(key, ".")
	if len(parts) > 1 {
		_, parent = lookup(f.Root, strings.Join(parts[:len(parts)-1], "."))
	}
	if parent == nil || parent.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if strings.EqualFold(parent.Content[i].Value, parts[len(parts)-1]) {
			parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
			return true
		}
	}
	return false
}

func setNode(n *yaml.Node, value any) error {
	keepFlow := n.Kind == yaml.SequenceNode && n.Style&yaml.FlowStyle != 0
	scalar := func(tag, v string) {
		n.Kind, n.Tag, n.Value, n.Content, n.Style = yaml.ScalarNode, tag, v, nil, 0
		if tag == "!!str" && needsQuotes(v) {
			n.Style = yaml.SingleQuotedStyle
		}
	}
	switch v := value.(type) {
	case string:
		scalar("!!str", v)
	case bool:
		scalar("!!bool", strconv.FormatBool(v))
	case int:
		scalar("!!int", strconv.Itoa(v))
	case []string:
		seq(n, len(v), func(i int) *yaml.Node {
			c := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v[i]}
			if needsQuotes(v[i]) {
				c.Style = yaml.SingleQuotedStyle
			}
			return c
		}, keepFlow)
	case []int:
		seq(n, len(v), func(i int) *yaml.Node {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v[i])}
		}, keepFlow)
	case *yaml.Node:
		hc, lc := n.HeadComment, n.LineComment
		*n = *v
		if n.LineComment == "" {
			n.LineComment = lc
		}
		if n.HeadComment == "" {
			n.HeadComment = hc
		}
	default:
		return fmt.Errorf("cannot set a %T", value)
	}
	return nil
}

func seq(n *yaml.Node, count int, item func(int) *yaml.Node, flow bool) {
	n.Kind, n.Tag, n.Value, n.Content = yaml.SequenceNode, "!!seq", "", nil
	n.Style = yaml.FlowStyle
	if !flow && count > 4 {
		n.Style = 0
	}
	for i := 0; i < count; i++ {
		n.Content = append(n.Content, item(i))
	}
}

// needsQuotes: a string YAML would read as something else (a number, a
// bool, null, or with characters that need quoting).
func needsQuotes(s string) bool {
	if s == "" {
		return true
	}
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return true
	}
	str, ok := v.(string)
	return !ok || str != s || strings.ContainsAny(s, "#:{}[],&*!|>'\"%@`")
}

// Bytes renders the file (two-space indent, comments and order kept).
func (f *File) Bytes() ([]byte, error) {
	if f.Doc == nil {
		return nil, nil
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f.Doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write renders the file to path (mode 0644, atomically).
func (f *File) Write(path string) error {
	b, err := f.Bytes()
	if err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
