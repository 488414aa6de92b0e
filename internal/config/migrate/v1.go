package migrate

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// Schema version 1 was flat and shaped like OpenIM's own start-config.yml:
//
//	version: 1
//	binDir: /usr/lib/openim/bin      # -> paths.binDir
//	configDir: /etc/openim/config    # -> paths.openimConfigDir
//	logDir: /var/log/openim          # -> paths.logDir
//	runDir: /run/openim              # -> paths.runtimeDir
//	socket: /run/openim/s.sock       # -> paths.socket
//	dataDir: /var/lib/openim         # -> paths.stateDir
//	envFile: /etc/openim/openim.env  # unchanged
//	restart: always                  # -> defaults.restart
//	stopSignal: TERM                 # -> defaults.stopSignal
//	stopTimeout: 15s                 # -> defaults.stopTimeout
//	readyAfter: 2s                   # -> defaults.ready.after
//	tools: [check-free-memory, check-component, seq]  # -> preStart: [{name: ...}]
//	services:                        # -> processes: [{name: openim-api, instances: 1}, ...]
//	  openim-api: 1
//	programs:                        # appended to processes; "dir" -> "workDir"
//	  - {name: x, command: /usr/bin/x, args: [], env: {}, dir: /x, instances: 1}
//	log: {...}                       # unchanged, as are metrics and control
var v1Keys = map[string]bool{
	"version": true, "binDir": true, "configDir": true, "logDir": true, "runDir": true, "socket": true,
	"dataDir": true, "envFile": true, "restart": true, "stopSignal": true, "stopTimeout": true,
	"readyAfter": true, "tools": true, "services": true, "programs": true, "log": true, "metrics": true,
	"control": true,
}

var v1ProgramKeys = map[string]string{ // v1 key -> v2 key
	"name": "name", "command": "command", "args": "args", "env": "env", "dir": "workDir",
	"instances": "instances", "ports": "ports", "restart": "restart", "stopSignal": "stopSignal",
	"stopTimeout": "stopTimeout",
}

func v1ToV2(file string, root *yaml.Node) error {
	if err := checkV1(file, root); err != nil {
		return err
	}
	group(root, "paths", [][2]string{{"binDir", "binDir"}, {"configDir", "openimConfigDir"}, {"logDir", "logDir"},
		{"runDir", "runtimeDir"}, {"socket", "socket"}, {"dataDir", "stateDir"}})
	group(root, "defaults", [][2]string{{"restart", "restart"}, {"stopSignal", "stopSignal"},
		{"stopTimeout", "stopTimeout"}, {"readyAfter", "ready"}})
	if _, defs := yamlnode.Find(root, "defaults"); defs != nil {
		if k, v := yamlnode.Find(defs, "ready"); v != nil { // readyAfter: 2s -> ready: {after: 2s}
			after := scalar("after")
			after.HeadComment, k.HeadComment = k.HeadComment, ""
			defs.Content[yamlnode.Index(defs, "ready")+1] = mapping(after, v)
		}
	}

	if k, v := yamlnode.Find(root, "tools"); k != nil {
		k.Value = "preStart"
		if v.Kind == yaml.SequenceNode {
			v.Style = 0 // block style: each tool becomes a mapping
			for i, item := range v.Content {
				if item.Kind == yaml.ScalarNode {
					name := scalar("name")
					name.HeadComment, item.HeadComment = item.HeadComment, ""
					v.Content[i] = mapping(name, item)
				}
			}
		}
	}

	var procs []*yaml.Node
	at := len(root.Content)
	sk, sv := yamlnode.Find(root, "services")
	if sk != nil {
		at = yamlnode.Index(root, "services")
		yamlnode.Remove(root, "services")
		if sv.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(sv.Content); i += 2 {
				k, v := sv.Content[i], sv.Content[i+1]
				val := scalar(k.Value)
				val.LineComment = k.LineComment
				item := mapping(scalar("name"), val, scalar("instances"), v)
				item.HeadComment = k.HeadComment
				procs = append(procs, item)
			}
		}
	}
	pk, pv := yamlnode.Find(root, "programs")
	if pk != nil {
		if i := yamlnode.Index(root, "programs"); i < at {
			at = i
		}
		yamlnode.Remove(root, "programs")
		for j, item := range pv.Content {
			for i := 0; i+1 < len(item.Content); i += 2 {
				item.Content[i].Value = v1ProgramKeys[item.Content[i].Value]
			}
			if j == 0 && pk.HeadComment != "" {
				item.HeadComment = strings.TrimSpace(pk.HeadComment + "\n" + item.HeadComment)
			}
			procs = append(procs, item)
		}
	}
	if sk != nil || pk != nil {
		key := scalar("processes")
		if sk != nil {
			key.HeadComment, key.LineComment = sk.HeadComment, sk.LineComment
		} else {
			key.HeadComment = pk.HeadComment
		}
		if len(procs) > 0 {
			procs[0].HeadComment = strings.TrimSpace(procs[0].HeadComment)
		}
		insertAt(root, at, key, &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: procs})
	}
	return nil
}

// group moves the top-level keys old[i][0] (in file order) under a new
// top-level mapping named key, renamed to old[i][1]. The new key takes the
// place of the first moved key; comments travel with their keys.
func group(root *yaml.Node, key string, moves [][2]string) {
	rename := map[string]string{}
	for _, m := range moves {
		rename[m[0]] = m[1]
	}
	first := -1
	var pairs []*yaml.Node
	for i := 0; i+1 < len(root.Content); {
		k := root.Content[i]
		if to, ok := rename[k.Value]; ok {
			if first < 0 {
				first = i
			}
			k.Value = to
			pairs = append(pairs, k, root.Content[i+1])
			root.Content = append(root.Content[:i], root.Content[i+2:]...)
			continue
		}
		i += 2
	}
	if first >= 0 {
		insertAt(root, first, scalar(key), mapping(pairs...))
	}
}

// checkV1 refuses keys that version 1 did not have, so that nothing is lost or
// silently carried into the new file.
func checkV1(file string, root *yaml.Node) error {
	var errs config.Errors
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if !v1Keys[k.Value] {
			errs = append(errs, &config.Error{File: file, Line: k.Line, Key: k.Value, Msg: "not a key of schema version 1",
				Fix: "remove it, or fix the version line if the file is already of a newer schema; known: " + known(v1Keys)})
		}
	}
	if _, sv := yamlnode.Find(root, "services"); sv != nil && sv.Kind != yaml.MappingNode && sv.ShortTag() != "!!null" {
		errs = append(errs, &config.Error{File: file, Line: sv.Line, Key: "services", Msg: "want a mapping of NAME: instances"})
	}
	if _, pv := yamlnode.Find(root, "programs"); pv != nil && pv.ShortTag() != "!!null" {
		if pv.Kind != yaml.SequenceNode {
			errs = append(errs, &config.Error{File: file, Line: pv.Line, Key: "programs", Msg: "want a list"})
		} else {
			for j, item := range pv.Content {
				if item.Kind != yaml.MappingNode {
					errs = append(errs, &config.Error{File: file, Line: item.Line, Key: fmt.Sprintf("programs[%d]", j), Msg: "want a mapping"})
					continue
				}
				for i := 0; i+1 < len(item.Content); i += 2 {
					if _, ok := v1ProgramKeys[item.Content[i].Value]; !ok {
						errs = append(errs, &config.Error{File: file, Line: item.Content[i].Line,
							Key: fmt.Sprintf("programs[%d].%s", j, item.Content[i].Value), Msg: "not a key of schema version 1"})
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func known(m map[string]bool) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}
