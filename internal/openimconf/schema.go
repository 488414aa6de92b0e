package openimconf

import (
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// schemaKey is the key mapstructure matches for a struct field: its
// mapstructure tag, else its Go name.
func schemaKey(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
	if tag == "" {
		return f.Name
	}
	return tag
}

// optional reports whether the key may be absent (it is absent from
// OpenIM's own shipped file).
func optional(f reflect.StructField) bool { return f.Tag.Get("openim") == "optional" }

// fieldFor finds the struct field a file key decodes into, the way
// mapstructure does: an exact match first, then a case-insensitive one.
func fieldFor(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold *reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		k := schemaKey(f)
		if k == key {
			return f, true
		}
		if fold == nil && strings.EqualFold(k, key) {
			fold = &f
		}
	}
	if fold != nil {
		return *fold, true
	}
	return reflect.StructField{}, false
}

// keyIssue is a key the struct does not know, or one the file lacks.
type keyIssue struct {
	Key  string // dotted
	Line int    // of the key; for a missing key, of its parent (1 at the top)
	// Missing: the file lacks the key (else the struct does not know it).
	Missing bool
	// Null: the key is there with no value while the struct wants a section.
	Null bool
}

// schemaIssues compares a file's mapping with its struct type.
func schemaIssues(t reflect.Type, root *yaml.Node) []keyIssue {
	var out []keyIssue
	var walk func(t reflect.Type, m *yaml.Node, path string, line int)
	walk = func(t reflect.Type, m *yaml.Node, path string, line int) {
		seen := map[string]bool{}
		if m != nil {
			for i := 0; i+1 < len(m.Content); i += 2 {
				k, v := m.Content[i], m.Content[i+1]
				key := join(path, k.Value)
				f, ok := fieldFor(t, k.Value)
				if !ok {
					out = append(out, keyIssue{Key: key, Line: k.Line})
					continue
				}
				seen[f.Name] = true
				ft := f.Type
				if ft.Kind() == reflect.Struct {
					switch {
					case v.Kind == yaml.MappingNode:
						walk(ft, v, key, k.Line)
					case v.Tag == "!!null":
						out = append(out, keyIssue{Key: key, Line: k.Line, Null: true})
					}
					// A scalar where a section belongs fails in Decode.
				}
			}
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || seen[f.Name] || optional(f) {
				continue
			}
			out = append(out, keyIssue{Key: join(path, schemaKey(f)), Line: line, Missing: true})
		}
	}
	line := 1
	if root != nil {
		line = root.Line
	}
	walk(t, root, "", line)
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// KnownKeys lists the dotted leaf keys of a file's struct (for the import
// and the merge: which keys OpenIM 3.8.3 reads).
func KnownKeys(spec FileSpec) []string {
	var out []string
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key := join(path, schemaKey(f))
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, key)
				continue
			}
			out = append(out, key)
		}
	}
	walk(reflect.TypeOf(spec.New()).Elem(), "")
	return out
}
