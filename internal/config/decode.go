package config

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder maps a yaml.v3 node tree onto the schema types. It is strict: an
// unknown or repeated key, a value of the wrong kind, or a bad duration, size,
// signal or policy is an Error naming the file, the line and the key path
// ("processes[3].ready.after"). It records the line of every key it sets, so
// that defaults apply only to keys the file leaves out and validation errors
// can point at a line too.
//
// Decoding onto a value that already holds defaults leaves absent keys at
// their defaults.
type decoder struct {
	file   string
	x      *expander
	errs   Errors
	keys   map[string]int // key path -> line, for every key present with a non-null value
	budget int            // nodes left to visit (aliases can multiply a document)
}

const nodeBudget = 1_000_000

func newDecoder(file string, x *expander) *decoder {
	return &decoder{file: file, x: x, keys: map[string]int{}, budget: nodeBudget}
}

func (d *decoder) fail(n *yaml.Node, path, msg, fix string) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: path, Msg: msg, Fix: fix})
}

// processEnv matches the key paths where env-file variables may be expanded.
var processEnv = regexp.MustCompile(`^(processes\[\d+\]|defaults)\.env\.`)

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// text returns a scalar's value with ${VAR} expanded; ok is false after an error.
func (d *decoder) text(n *yaml.Node, path string) (s string, expanded, ok bool) {
	out, xe := d.x.expand(n.Value, processEnv.MatchString(path))
	if xe != nil {
		d.fail(n, path, xe.msg, xe.fix)
		return "", false, false
	}
	return out, out != n.Value, true
}

var scalarType = reflect.TypeFor[scalar]()

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.fail(n, path, "document too large (anchors and aliases expand past a million values)", "")
		}
		return
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		d.decode(n.Content[0], v, path)
		return
	}
	if isNull(n) {
		return // "key:" with nothing after it, or "~": keep the default
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() && v.Addr().Type().Implements(scalarType) {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want "+describeType(v.Type())+", got "+describeNode(n), "")
			return
		}
		s, _, ok := d.text(n, path)
		if !ok {
			return
		}
		if err := v.Addr().Interface().(scalar).parse(s); err != nil {
			d.fail(n, path, err.Error(), "")
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list, got "+describeNode(n), "write one item a line, each starting with \"- \"")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ip := fmt.Sprintf("%s[%d]", path, i)
			d.keys[ip] = item.Line // locates problems with the item as a whole
			d.decode(item, s.Index(i), ip)
		}
		v.Set(s)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want text, got "+describeNode(n), "")
			return
		}
		if s, _, ok := d.text(n, path); ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want a whole number, got "+describeNode(n), "")
			return
		}
		s, expanded, ok := d.text(n, path)
		if !ok {
			return
		}
		if n.ShortTag() != "!!int" && !expanded {
			d.fail(n, path, "want a whole number, got "+describeNode(n), "")
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 0, 64)
		if err != nil || v.OverflowInt(i) {
			d.fail(n, path, fmt.Sprintf("want a whole number, got %q", s), "")
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want true or false, got "+describeNode(n), "")
			return
		}
		s, expanded, ok := d.text(n, path)
		if !ok {
			return
		}
		b, err := strconv.ParseBool(s)
		if (n.ShortTag() != "!!bool" && !expanded) || err != nil {
			d.fail(n, path, "want true or false, got "+describeNode(n), "")
			return
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: decoder has no case for %s", v.Type()))
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping (key: value lines), got "+describeNode(n), "")
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := joinPath(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "keys must be plain words, got "+describeNode(k), "")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, kp, fmt.Sprintf("key repeated (first at line %d)", first), "keep one of the two")
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			d.fail(k, kp, "unknown key", unknownKeyFix(k.Value, fields))
			continue
		}
		if !isNull(val) {
			d.keys[kp] = k.Line
		}
		d.decode(val, v.Field(idx), kp)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping (NAME: value lines), got "+describeNode(n), "")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		for val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "keys must be plain words, got "+describeNode(k), "")
			continue
		}
		kp := path + "." + k.Value
		if first, dup := seen[k.Value]; dup {
			d.fail(k, kp, fmt.Sprintf("key repeated (first at line %d)", first), "keep one of the two")
			continue
		}
		seen[k.Value] = k.Line
		d.keys[kp] = k.Line
		if val.Kind != yaml.ScalarNode {
			d.fail(val, kp, "want a value, got "+describeNode(val), "")
			continue
		}
		s := ""
		if !isNull(val) {
			var ok bool
			if s, _, ok = d.text(val, kp); !ok {
				continue
			}
		}
		v.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(s))
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps yaml key -> field index for a struct type.
func yamlFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

func unknownKeyFix(key string, fields map[string]int) string {
	known := make([]string, 0, len(fields))
	best, bestDist := "", 3
	for k := range fields {
		known = append(known, k)
		if dist := editDistance(strings.ToLower(key), strings.ToLower(k)); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	sort.Strings(known)
	if best != "" {
		return "did you mean " + best + "? known keys here: " + strings.Join(known, ", ")
	}
	return "known keys here: " + strings.Join(known, ", ")
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func describeType(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration]():
		return "a duration like 10s"
	case reflect.TypeFor[ByteSize]():
		return "a size like 10MiB"
	case reflect.TypeFor[Signal]():
		return "a signal name like TERM"
	case reflect.TypeFor[RestartPolicy]():
		return "always, on-failure or never"
	case reflect.TypeFor[LogTarget]():
		return "auto, journal or file"
	}
	return "a value"
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!null":
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}
