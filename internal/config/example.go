package config

import (
	"bytes"
	_ "embed"
	"strings"
	"text/template"

	"github.com/openim-supervisor/openim-supervisor/internal/paths"
)

//go:embed example.yaml
var exampleYAML string

// ExampleEnv is the commented env file `openim-supervisor init` writes.
//
//go:embed example.env
var ExampleEnv []byte

// ExamplePaths are the locations written into the example config.
type ExamplePaths struct {
	BinDir, OpenIMConfigDir, LogDir, RuntimeDir, StateDir string
	EnvFile                                               string // relative: next to the config file
}

// DefaultExamplePaths are this OS's default locations, with the env file next
// to the config file.
func DefaultExamplePaths() ExamplePaths {
	d := paths.OS()
	return ExamplePaths{BinDir: d.BinDir, OpenIMConfigDir: d.OpenIMConfigDir, LogDir: d.LogDir,
		RuntimeDir: d.RuntimeDir, StateDir: d.StateDir, EnvFile: "openim.env"}
}

var exampleTmpl = template.Must(template.New("example.yaml").Parse(exampleYAML))

// Example renders the commented default config: the OpenIM 3.8.3 process set,
// its pre-start tools and every setting at its default.
func Example(p ExamplePaths) []byte {
	q := func(s string) string { return strings.ReplaceAll(s, "'", "''") } // inside '...'
	p = ExamplePaths{q(p.BinDir), q(p.OpenIMConfigDir), q(p.LogDir), q(p.RuntimeDir), q(p.StateDir), q(p.EnvFile)}
	var b bytes.Buffer
	if err := exampleTmpl.Execute(&b, p); err != nil {
		panic("config: example template: " + err.Error()) // a fixed template over plain strings
	}
	return b.Bytes()
}
