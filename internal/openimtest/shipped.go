package openimtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// UseShippedConfig writes the shipped config (WriteShippedConfig) and makes
// it the one StartSupervisor runs; it fails the test on an error.
func (d *Deployment) UseShippedConfig(t testing.TB) {
	t.Helper()
	cfg, err := d.WriteShippedConfig()
	if err != nil {
		t.Fatalf("openimtest: the shipped config: %v", err)
	}
	d.SupervisorConfig = cfg
}

// WriteShippedConfig writes the config `openim-supervisor init` writes
// (config.Example: its readiness checks, barrier and defaults) with the
// deployment's paths, and the ports and instance counts its OpenIM config
// uses; nothing else is changed. It returns the file's path (Dir/shipped.yaml,
// with an empty env file next to it). Use it to judge what users run;
// SupervisorConfig is the deployment's own, simpler config.
func (d *Deployment) WriteShippedConfig() (string, error) {
	text := config.Example(config.ExamplePaths{BinDir: d.Env.BinDir, OpenIMConfigDir: d.ConfigDir,
		LogDir: filepath.Join(d.Dir, "log"), RuntimeDir: filepath.Join(d.Dir, "run"),
		StateDir: filepath.Join(d.Dir, "state"), EnvFile: "openim.env"})
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return "", err
	}
	procs := yamlnode.Value(doc.Content[0], "processes")
	if procs == nil {
		return "", fmt.Errorf("example config: no processes")
	}
	for _, p := range procs.Content {
		name := yamlnode.Value(p, "name").Value
		ports := d.RPCPorts[name]
		if name == "openim-api" {
			ports = d.APIPorts
		}
		for j := 0; j+1 < len(p.Content); j += 2 {
			switch p.Content[j].Value {
			case "ports":
				var seq yaml.Node
				if err := seq.Encode(ports); err != nil {
					return "", err
				}
				seq.Style = yaml.FlowStyle
				p.Content[j+1] = &seq
			case "instances":
				p.Content[j+1].Value = fmt.Sprint(d.Instances[name])
			}
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(d.Dir, "shipped.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(d.Dir, "openim.env"), nil, 0o600); err != nil {
		return "", err
	}
	if _, err := config.Load(path); err != nil {
		return "", fmt.Errorf("the shipped config with the deployment's paths does not load: %w", err)
	}
	return path, nil
}
