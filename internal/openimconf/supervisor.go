package openimconf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// SupervisorCheck is everything CheckSupervisor found about the OpenIM
// config dir a supervisor config points at.
type SupervisorCheck struct {
	// Needed: some process or pre-start tool is an OpenIM program (no
	// command of its own), so the dir matters. When false nothing else is set.
	Needed bool
	Dir    string
	Stamp  Stamp
	// Version is a *VersionError when the dir is for another OpenIM version
	// (or an error reading the stamp); the other checks are then skipped.
	Version error
	// Loaded is the dir as the services see it (nil when it cannot be loaded).
	Loaded *Dir
	// Report holds load errors, Check's findings and CheckPrograms' errors.
	Report *Report
}

// CheckSupervisor runs every OpenIM-config check for a loaded supervisor
// config: the version stamp against openimVersion (the version this binary
// ships), then Load with the env file's IMENV_ variables, Check, and
// CheckPrograms for the configured processes; `.new` files an upgrade left
// for true conflicts are reported as warnings.
func CheckSupervisor(cfg *config.Config, openimVersion string, o CheckOptions) *SupervisorCheck {
	sc := &SupervisorCheck{Dir: cfg.Paths.OpenIMConfigDir, Report: &Report{}}
	for _, p := range cfg.Processes {
		if p.Command == "" {
			sc.Needed = true
		}
	}
	for _, t := range cfg.PreStart {
		if t.Command == "" {
			sc.Needed = true
		}
	}
	if !sc.Needed {
		return sc
	}
	if sc.Dir != "" {
		if _, err := os.Stat(sc.Dir); err == nil {
			sc.Stamp, sc.Version = CheckVersion(sc.Dir, openimVersion, cfg.Source)
			if sc.Version != nil {
				return sc
			}
		}
	}
	d, err := Load(sc.Dir, Options{Env: cfg.Env})
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) && ce.File == "" && ce.Key == "paths.openimConfigDir" {
			ce.File = cfg.Source
			ce.Line = lineOfKey(cfg.Source, "paths", "openimConfigDir")
		}
		sc.Report.Errors = append(sc.Report.Errors, flatten(err)...)
		return sc
	}
	sc.Loaded = d
	r := Check(d, o)
	sc.Report = r
	if !sc.Stamp.Stamped {
		r.Notes = append(r.Notes, fmt.Sprintf("%s has no %s stamp; taken as OpenIM %s (the 3.8 layout); `openim-supervisor config stamp` records it",
			sc.Dir, StampFile, openimVersion))
	}
	r.Errors = append(r.Errors, CheckPrograms(d, programs(cfg))...)
	r.Warnings = append(r.Warnings, seqTool(cfg)...)
	for _, n := range Conflicts(sc.Dir) {
		r.Warnings = append(r.Warnings, &config.Error{File: n, Msg: "an upgrade kept your value where the new default differs (a true conflict); this file holds the new version's default",
			Fix: "compare it with " + strings.TrimSuffix(n, ".new") + ", merge what you want, then delete " + filepath.Base(n)})
	}
	return sc
}

// seqTool warns about OpenIM's seq tool among the pre-start tools. It reads
// only the yml files (no IMENV_ overrides from the env file), and when it
// cannot connect it logs the error and exits 0: the start goes on as if
// the seqs had moved. The move it does (3.7 -> 3.8, Redis seqs to MongoDB)
// is an `openim-supervisor upgrade` step, and `run` refuses to start while
// that step is pending, so seq has nothing left to do at a start.
func seqTool(cfg *config.Config) []error {
	var overrides []string
	for k := range cfg.Env {
		if strings.HasPrefix(k, "IMENV_MONGODB_") || strings.HasPrefix(k, "IMENV_REDIS_") {
			overrides = append(overrides, k)
		}
	}
	sort.Strings(overrides)
	var out []error
	for i, t := range cfg.PreStart {
		if t.Name != "seq" || t.Command != "" {
			continue
		}
		msg := "OpenIM's seq tool reads only the yml files, not the env file's IMENV_ overrides, and exits 0 when it fails"
		if len(overrides) > 0 {
			msg += "; here the env file sets " + strings.Join(overrides, ", ") + ", so seq would miss them"
		}
		out = append(out, &config.Error{File: cfg.Source, Line: preStartLine(cfg.Source, i), Key: fmt.Sprintf("preStart[%d]", i), Msg: msg,
			Fix: "remove seq from preStart: the 3.7 -> 3.8 seq move is step 3.8.0/redis-seq-to-mongo of `openim-supervisor upgrade`, and `run` does not start while it is pending"})
	}
	return out
}

// preStartLine is the line of preStart[i] in the supervisor's file (0 when
// unknown).
func preStartLine(path string, i int) int {
	_, seq := yamlnode.Find(yamlRoot(path), "preStart")
	if seq == nil || seq.Kind != yaml.SequenceNode || i >= len(seq.Content) {
		return 0
	}
	return seq.Content[i].Line
}

// Conflicts lists the NAME.yml.new files in dir (left by a three-way merge
// for a true conflict).
func Conflicts(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.yml.new"))
	sort.Strings(m)
	return m
}

// programs turns the supervisor's processes into Programs, with the lines
// of their entries in the supervisor's file.
func programs(cfg *config.Config) []Program {
	lines := processLines(cfg.Source)
	out := make([]Program, 0, len(cfg.Processes))
	for i, p := range cfg.Processes {
		pr := Program{Name: p.Name, Custom: p.Command != "", Instances: p.Instances, Ports: p.Ports, Env: p.Env, File: cfg.Source, GRPC: p.Ready.GRPC != ""}
		if i < len(lines) {
			pr.Line, pr.InstancesLine, pr.PortsLine = lines[i][0], lines[i][1], lines[i][2]
		}
		out = append(out, pr)
	}
	return out
}

// processLines reads the lines of each processes[] entry, its instances:
// and its ports: from the supervisor config file.
func processLines(path string) [][3]int {
	root := yamlRoot(path)
	_, seq := yamlnode.Find(root, "processes")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([][3]int, len(seq.Content))
	for i, item := range seq.Content {
		out[i][0] = item.Line
		if k, _ := yamlnode.Find(item, "instances"); k != nil {
			out[i][1] = k.Line
		}
		if k, _ := yamlnode.Find(item, "ports"); k != nil {
			out[i][2] = k.Line
		}
	}
	return out
}

func lineOfKey(path string, keys ...string) int {
	n := yamlRoot(path)
	var k *yaml.Node
	for _, key := range keys {
		k, n = yamlnode.Find(n, key)
	}
	if k == nil {
		return 0
	}
	return k.Line
}

func yamlRoot(path string) *yaml.Node {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}
