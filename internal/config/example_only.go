package config

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// ExampleProcess picks one process of the example config for ExampleOnly.
type ExampleProcess struct {
	Name      string
	Instances int // 0: the example's count
}

// ParseExampleProcesses reads "NAME[=INSTANCES],..." (init --processes).
func ParseExampleProcesses(s string) ([]ExampleProcess, error) {
	var out []ExampleProcess
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, count, hasCount := strings.Cut(f, "=")
		p := ExampleProcess{Name: strings.TrimSpace(name)}
		if hasCount {
			n, err := strconv.Atoi(strings.TrimSpace(count))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("--processes: %q: the instance count must be a number of 1 or more, as in openim-push=8", f)
			}
			p.Instances = n
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--processes is empty; name at least one OpenIM program, as in openim-api,openim-push=8")
	}
	return out, nil
}

// ExampleSelection picks part of the example config for ExampleOnly.
type ExampleSelection struct {
	Processes []ExampleProcess // nil: every process
	// PreStart, with SetPreStart, keeps only these of the example's
	// pre-start tools (none when empty); without, the example's stay.
	PreStart    []string
	SetPreStart bool
}

// ExampleOnly renders the example config (Example) with only the selected
// processes, in the example's order, for a host that runs part of the set
// (a fleet: gateways here, workers there). Each of the example's start
// steps keeps its place: a barrier ends the last process kept of a step
// when a later step has processes here. An instance count below the
// example's keeps the first ports of its list; one above it is refused (the
// example lists no more ports: write the config yourself).
func ExampleOnly(p ExamplePaths, sel ExampleSelection) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(Example(p), &doc); err != nil {
		return nil, fmt.Errorf("example config: %w", err)
	}
	root := doc.Content[0]
	if sel.Processes != nil {
		if err := onlyProcesses(yamlnode.Value(root, "processes"), sel.Processes); err != nil {
			return nil, err
		}
	}
	if sel.SetPreStart {
		if err := onlyTools(yamlnode.Value(root, "preStart"), sel.PreStart); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("example config: %w", err)
	}
	return b.Bytes(), enc.Close()
}

func onlyProcesses(procs *yaml.Node, only []ExampleProcess) error {
	if procs == nil || procs.Kind != yaml.SequenceNode {
		return fmt.Errorf("example config: no processes list")
	}
	want := map[string]int{}
	for _, o := range only {
		want[o.Name] = o.Instances
	}
	type kept struct {
		node *yaml.Node
		step int
	}
	var keep []kept
	var names []string
	step := 0
	for _, item := range procs.Content {
		name := yamlnode.Value(item, "name").Value
		names = append(names, name)
		barrier := yamlnode.Value(item, "barrier")
		if n, ok := want[name]; ok {
			if err := setInstances(item, name, n); err != nil {
				return err
			}
			delete(want, name)
			yamlnode.Remove(item, "barrier")
			keep = append(keep, kept{item, step})
		}
		if barrier != nil && barrier.Value == "true" {
			step++
		}
	}
	if err := unknownNames(only, want, names); err != nil {
		return err
	}
	procs.Content = procs.Content[:0]
	for i, k := range keep {
		procs.Content = append(procs.Content, k.node)
		if i+1 < len(keep) && keep[i+1].step > k.step {
			k.node.Content = append(k.node.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "barrier"},
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		}
	}
	return nil
}

// onlyTools keeps the example's pre-start tools named in names.
func onlyTools(tools *yaml.Node, names []string) error {
	if tools == nil || tools.Kind != yaml.SequenceNode {
		return fmt.Errorf("example config: no preStart list")
	}
	want := map[string]int{}
	var only []ExampleProcess
	for _, n := range names {
		want[n] = 0
		only = append(only, ExampleProcess{Name: n})
	}
	var all []string
	kept := tools.Content[:0]
	for _, item := range tools.Content {
		name := yamlnode.Value(item, "name").Value
		all = append(all, name)
		if _, ok := want[name]; ok {
			delete(want, name)
			kept = append(kept, item)
		}
	}
	if err := unknownNames(only, want, all); err != nil {
		return fmt.Errorf("pre-start tools: %w", err)
	}
	tools.Content = kept
	if len(kept) == 0 {
		tools.Style = yaml.FlowStyle
	}
	return nil
}

// unknownNames fails for the names of only still in want (not found among
// all).
func unknownNames(only []ExampleProcess, want map[string]int, all []string) error {
	if len(want) == 0 {
		return nil
	}
	var unknown []string
	for _, o := range only {
		if _, ok := want[o.Name]; ok {
			unknown = append(unknown, o.Name)
		}
	}
	return fmt.Errorf("%s not in the example's set (%s)", strings.Join(unknown, ", "), strings.Join(all, ", "))
}

// setInstances sets the instance count of an example process (0: keep it).
func setInstances(item *yaml.Node, name string, n int) error {
	if n == 0 {
		return nil
	}
	ports := yamlnode.Value(item, "ports")
	if ports != nil && n > len(ports.Content) {
		return fmt.Errorf("--processes: %s=%d: the example lists %d port(s) for %s; write the config yourself with a port per instance (they must match OpenIM's %s.yml)",
			name, n, len(ports.Content), name, name)
	}
	if ports != nil {
		ports.Content = ports.Content[:n]
	}
	if v := yamlnode.Value(item, "instances"); v != nil {
		v.Value = strconv.Itoa(n)
		return nil
	}
	if n != 1 {
		item.Content = append(item.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "instances"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)})
	}
	return nil
}
