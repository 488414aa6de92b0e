// Package migrate rewrites a config file of an older schema version to the
// current one (`openim-supervisor config migrate`).
//
// Each Step turns version N into N+1 by editing the yaml.v3 node tree, so the
// user's values, key order and comments survive; steps run in order from the
// file's version to config.CurrentVersion. A step never reads the environment
// or the file system: ${VAR} references are moved as written.
package migrate

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// Step turns a document of version From into version From+1.
type Step struct {
	From    int
	Summary string
	// Apply edits the top-level mapping in place; file is for error messages.
	Apply func(file string, root *yaml.Node) error
}

// Steps returns every schema step, oldest first; Steps()[i].From == i+1.
func Steps() []Step {
	return append([]Step{
		{From: 1, Summary: "v1 -> v2: paths, defaults, preStart and processes sections", Apply: v1ToV2},
	}, testSteps()...)
}

// Result says what Migrate did.
type Result struct {
	From, To int
	Applied  []string // summaries of the steps run
	Out      []byte   // the migrated document (the input unchanged when From == To)
}

// Migrate rewrites data, a config document, to config.CurrentVersion. A file
// already at the current version comes back unchanged; a newer one is an error.
func Migrate(file string, data []byte) (Result, error) {
	from, err := config.Version(file, data)
	if err != nil {
		return Result{}, err
	}
	res := Result{From: from, To: from, Out: data}
	if from > config.CurrentVersion {
		return res, &config.Error{File: file, Key: "version",
			Msg: fmt.Sprintf("schema version %d is newer than this openim-supervisor knows (%d); nothing to migrate", from, config.CurrentVersion),
			Fix: "use the openim-supervisor release that wrote the file"}
	}
	if from == config.CurrentVersion {
		return res, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return res, &config.Error{File: file, Msg: "not valid YAML: " + err.Error()}
	}
	root := doc.Content[0]
	steps := Steps()
	for v := from; v < config.CurrentVersion; v++ {
		st := steps[v-1]
		if err := st.Apply(file, root); err != nil {
			return res, err
		}
		_, val := yamlnode.Find(root, "version")
		val.Value = fmt.Sprint(v + 1)
		res.Applied = append(res.Applied, st.Summary)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return res, fmt.Errorf("migrate %s: write YAML: %w", file, err)
	}
	if err := enc.Close(); err != nil {
		return res, fmt.Errorf("migrate %s: write YAML: %w", file, err)
	}
	out := spaceSections(b.Bytes())
	// Moving keys can put an alias before its anchor; never hand back a
	// document that no longer parses.
	if v, err := config.Version(file, out); err != nil || v != config.CurrentVersion {
		return res, &config.Error{File: file, Msg: "cannot migrate this file automatically (its anchors and aliases do not survive moving keys)",
			Fix: "replace the aliases (*name) with their values and run config migrate again"}
	}
	res.To, res.Out = config.CurrentVersion, out
	return res, nil
}

// spaceSections puts a blank line before each top-level key after the first
// (before its comment lines, if any): yaml.v3 drops blank lines, and a config
// without them is hard to read.
func spaceSections(out []byte) []byte {
	lines := strings.SplitAfter(string(out), "\n")
	var b strings.Builder
	seenKey := false
	block := 0 // start of the current run of top-level comment lines
	for i, l := range lines {
		top := l != "" && l[0] != ' ' && l[0] != '\n' && l[0] != '-'
		switch {
		case top && l[0] == '#':
			if i == 0 || lines[i-1][0] != '#' {
				block = b.Len()
			}
		case top:
			if i == 0 || lines[i-1][0] != '#' {
				block = b.Len()
			}
			if seenKey {
				s := b.String()
				b.Reset()
				b.WriteString(s[:block] + "\n" + s[block:])
			}
			seenKey = true
		}
		b.WriteString(l)
	}
	return []byte(b.String())
}

// insertAt puts key/value pairs into mapping m at content index i.
func insertAt(m *yaml.Node, i int, pairs ...*yaml.Node) {
	m.Content = append(m.Content[:i], append(pairs, m.Content[i:]...)...)
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func mapping(pairs ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: pairs}
}
