package importer

import (
	"embed"
	"fmt"
	"path"

	"gopkg.in/yaml.v3"
)

// legacy holds the config files each older OpenIM release ships, as its
// install scripts render them (see legacy/README.md).
//
//go:embed legacy/*/*.yaml legacy/*/*.yml
var legacy embed.FS

// legacyFile parses one of legacy/<version>/<name>; nil when absent.
func legacyFile(version, name string) *yaml.Node {
	b, err := legacy.ReadFile(path.Join("legacy", version, name))
	if err != nil {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// leaf is one non-mapping value of a YAML file.
type leaf struct {
	Key  string
	Line int
	Node *yaml.Node
}

// leaves flattens a mapping into dotted keys, in file order.
func leaves(m *yaml.Node) []leaf {
	var out []leaf
	var walk func(m *yaml.Node, prefix string)
	walk = func(m *yaml.Node, prefix string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			key := k.Value
			if prefix != "" {
				key = prefix + "." + key
			}
			if v.Kind == yaml.MappingNode && len(v.Content) > 0 {
				walk(v, key)
				continue
			}
			out = append(out, leaf{Key: key, Line: k.Line, Node: v})
		}
	}
	if m != nil && m.Kind == yaml.MappingNode {
		walk(m, "")
	}
	return out
}

func parseYAML(name string, b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %w", name, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a mapping of keys", name)
	}
	return doc.Content[0], nil
}
