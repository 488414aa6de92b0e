package openimtest

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// yamlFile is one of OpenIM's yml files, edited as a yaml.v3 node tree so
// that its comments and key order stay as OpenIM ships them.
type yamlFile struct {
	path string
	doc  *yaml.Node // the document node
}

func readYAML(path string) (*yamlFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping", path)
	}
	return &yamlFile{path: path, doc: &doc}, nil
}

// set replaces the value at the dotted key path ("etcd.address") with value,
// keeping the old node's comments and, for lists, its flow style. A missing
// key is an error: OpenIM only reads keys its files have, and its IMENV_
// overrides only apply to those, so a test must not invent one.
func (f *yamlFile) set(key string, value any) error {
	m := f.doc.Content[0]
	parts := strings.Split(key, ".")
	for i, p := range parts {
		v := yamlnode.Value(m, p)
		if v == nil {
			return fmt.Errorf("%s: no key %s", f.path, strings.Join(parts[:i+1], "."))
		}
		if i < len(parts)-1 {
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("%s: %s is not a mapping", f.path, strings.Join(parts[:i+1], "."))
			}
			m = v
			continue
		}
		var n yaml.Node
		if err := n.Encode(value); err != nil {
			return fmt.Errorf("%s: encode %s: %w", f.path, key, err)
		}
		if v.Kind == yaml.SequenceNode && n.Kind == yaml.SequenceNode {
			n.Style = v.Style
		}
		n.HeadComment, n.LineComment, n.FootComment = v.HeadComment, v.LineComment, v.FootComment
		*v = n
	}
	return nil
}

// add appends the top-level key with value and a head comment. The key
// must not exist yet. Only for a key OpenIM reads but does not ship in its
// file (see redisDBKey).
func (f *yamlFile) add(key string, value any, comment string) error {
	m := f.doc.Content[0]
	if yamlnode.Value(m, key) != nil {
		return fmt.Errorf("%s: key %s exists already", f.path, key)
	}
	var v yaml.Node
	if err := v.Encode(value); err != nil {
		return fmt.Errorf("%s: encode %s: %w", f.path, key, err)
	}
	k := yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, HeadComment: comment}
	m.Content = append(m.Content, &k, &v)
	return nil
}

func (f *yamlFile) write() error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f.doc); err != nil {
		return fmt.Errorf("encode %s: %w", f.path, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode %s: %w", f.path, err)
	}
	return os.WriteFile(f.path, buf.Bytes(), 0o600)
}

// editYAML applies the edits (dotted key -> value) to the file at path.
func editYAML(path string, edits map[string]any) error {
	return editAddYAML(path, edits, nil)
}

// yamlAdd is a top-level key to add with its comment.
type yamlAdd struct {
	value   any
	comment string
}

// editAddYAML applies the edits, then adds the keys of adds.
func editAddYAML(path string, edits map[string]any, adds map[string]yamlAdd) error {
	f, err := readYAML(path)
	if err != nil {
		return err
	}
	for k, v := range edits {
		if err := f.set(k, v); err != nil {
			return err
		}
	}
	for k, a := range adds {
		if err := f.add(k, a.value, a.comment); err != nil {
			return err
		}
	}
	return f.write()
}
