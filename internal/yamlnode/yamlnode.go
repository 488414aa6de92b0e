// Package yamlnode finds and removes keys in yaml.v3 node trees: the
// helpers of the code that reads or edits YAML as nodes, so that comments
// and key order survive.
package yamlnode

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// Index is the index in m.Content of key's key node, or -1 when key is
// absent or m is not a mapping.
func Index(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// Find returns key's key and value nodes in mapping m, or nils.
func Find(m *yaml.Node, key string) (k, v *yaml.Node) {
	if i := Index(m, key); i >= 0 {
		return m.Content[i], m.Content[i+1]
	}
	return nil, nil
}

// Value returns key's value node in mapping m, or nil.
func Value(m *yaml.Node, key string) *yaml.Node {
	_, v := Find(m, key)
	return v
}

// Remove takes key out of mapping m and returns its key and value nodes,
// comments attached (nils when absent).
func Remove(m *yaml.Node, key string) (k, v *yaml.Node) {
	i := Index(m, key)
	if i < 0 {
		return nil, nil
	}
	k, v = m.Content[i], m.Content[i+1]
	m.Content = append(m.Content[:i], m.Content[i+2:]...)
	return k, v
}

// Path follows a dotted key ("a.b.c") through nested mappings from m; nil
// when a part is missing or not a mapping.
func Path(m *yaml.Node, dotted string) *yaml.Node {
	cur := m
	for _, part := range strings.Split(dotted, ".") {
		if cur = Value(cur, part); cur == nil {
			return nil
		}
	}
	return cur
}
