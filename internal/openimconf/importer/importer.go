// Package importer reads an existing OpenIM 3.4, 3.5, 3.6 or 3.7
// installation's config and plans the OpenIM 3.8.3 config dir that carries
// its settings: `openim-supervisor config import`.
//
// Sources: OpenIM 3.4–3.6 keep everything in one config/config.yaml (plus
// config/notification.yaml), with a few settings read from the environment
// at run time (MONGO_ADDRESS, REDIS_PASSWORD, KAFKA_ADDRESS, ... see env.go),
// which docker-compose installs keep in .env. OpenIM 3.7 has a directory of
// yml files (zookeeper.yml where 3.8 has discovery.yml) with IMENV_
// overrides. The real files of each release are kept in legacy/ (embedded):
// a value equal to the old release's default is not an operator's choice,
// so the 3.8.3 default is kept for it; everything else that has a place in
// 3.8.3 is carried, and everything that has none is listed with the reason.
// Secrets go to the env file as IMENV_ overrides, never into the yml.
package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// Change is one 3.8.3 setting the import sets.
type Change struct {
	File string // 3.8.3 file, e.g. "mongodb.yml"
	Key  string // dotted key in it
	// Value is the value (a YAML node taken from the source, or built).
	Value *yaml.Node
	// Secret: the value goes to the env file as Var, the yml gets ''.
	Secret bool
	Var    string
	// From names the source: "config.yaml:54 mongo.address" or "env MONGO_ADDRESS".
	From string
}

// Unplaced is a source setting that has no place in 3.8.3.
type Unplaced struct {
	From  string // "config.yaml:12 mysql.address" or "env DATA_DIR"
	Value string // secrets masked
	Why   string
}

// Plan is what an import would write.
type Plan struct {
	// Version is the source's OpenIM release (as recognised), Layout how.
	Version string
	Layout  string
	Source  string
	Changes []Change
	// Defaulted lists source keys left at their old release's default, for
	// which the 3.8.3 default is kept.
	Defaulted []string
	Unplaced  []Unplaced
	// Notes are facts the operator should know (discovery, MySQL, ...).
	Notes []string

	shipped map[string]*yaml.Node // OpenIM 3.8.3's files, to skip no-op changes
}

// Options tune Read.
type Options struct {
	// EnvFiles are KEY=VALUE files holding the environment the old OpenIM
	// ran with (docker-compose's .env, a dump of the container's env). When
	// empty, a .env next to the source (or its parent) is used if present.
	EnvFiles []string
	// Version forces the source release ("3.5.1") instead of recognising it.
	Version string
	// Etcd, when set, switches discovery to etcd at this address (OpenIM 3.8's
	// default); the old ZooKeeper settings stay under zooKeeper:.
	Etcd []string
}

// Read reads the installation at from (a config.yaml, the dir holding it,
// the repository root holding config/, or a 3.7 config dir) and plans the
// import.
func Read(from string, o Options) (*Plan, error) {
	src, err := locate(from)
	if err != nil {
		return nil, err
	}
	env, envFiles, err := readEnv(src, o.EnvFiles)
	if err != nil {
		return nil, err
	}
	var p *Plan
	if src.dir37 {
		p, err = readDir37(src, env, o)
	} else {
		p, err = readSingle(src, env, o)
	}
	if err != nil {
		return nil, err
	}
	if len(envFiles) > 0 {
		p.Notes = append(p.Notes, "environment read from "+strings.Join(envFiles, ", "))
	}
	if len(o.Etcd) > 0 {
		p.set("discovery.yml", "enable", strNode("etcd"), "--etcd")
		p.set("discovery.yml", "etcd.address", listNode(o.Etcd), "--etcd")
		p.Notes = append(p.Notes, "discovery switched to etcd ("+strings.Join(o.Etcd, ", ")+") by --etcd; the ZooKeeper settings are kept under discovery.yml zooKeeper:")
	}
	p.dedupe()
	return p, nil
}

// source is a located installation.
type source struct {
	dir37  bool
	path   string // config.yaml, or the 3.7 dir
	notif  string // 3.4–3.6 notification.yaml ("" when absent)
	search []string
}

func locate(from string) (*source, error) {
	st, err := os.Stat(from)
	if err != nil {
		return nil, fmt.Errorf("import from %s: %w", from, err)
	}
	if !st.IsDir() {
		dir := filepath.Dir(from)
		return &source{path: from, notif: existing(filepath.Join(dir, "notification.yaml")), search: []string{dir, filepath.Dir(dir)}}, nil
	}
	for _, d := range []string{from, filepath.Join(from, "config")} {
		if existing(filepath.Join(d, "zookeeper.yml")) != "" || existing(filepath.Join(d, "share.yml")) != "" {
			if existing(filepath.Join(d, "discovery.yml")) != "" && existing(filepath.Join(d, "zookeeper.yml")) == "" {
				return nil, fmt.Errorf("%s is already an OpenIM 3.8 config dir (discovery.yml); point paths.openimConfigDir at it, or run `openim-supervisor upgrade` for a newer 3.8 release", d)
			}
			return &source{dir37: true, path: d, search: []string{d, filepath.Dir(d)}}, nil
		}
		if c := existing(filepath.Join(d, "config.yaml")); c != "" {
			return &source{path: c, notif: existing(filepath.Join(d, "notification.yaml")), search: []string{d, filepath.Dir(d)}}, nil
		}
	}
	return nil, fmt.Errorf("%s holds no OpenIM config (config.yaml of 3.4–3.6, or the yml files of 3.7)", from)
}

func existing(p string) string {
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// set records a change (a later one for the same key replaces it); a
// value equal to OpenIM 3.8.3's shipped one changes nothing and is dropped.
func (p *Plan) set(file, key string, v *yaml.Node, from string) {
	if p.shipped == nil {
		p.shipped = map[string]*yaml.Node{}
		files, _ := openimconf.Defaults(openimconf.Version)
		for name, b := range files {
			if root, err := parseYAML(name, b); err == nil {
				p.shipped[name] = root
			}
		}
	}
	if same(v, yamlnode.Path(p.shipped[file], key)) {
		p.drop(file, key) // an earlier change of the same key is undone
		return
	}
	p.Changes = append(p.Changes, Change{File: file, Key: key, Value: v, From: from, Secret: isSecret(file, key, v),
		Var: openimconf.EnvVar(file, key)})
}

func (p *Plan) drop(file, key string) {
	out := p.Changes[:0]
	for _, c := range p.Changes {
		if c.File != file || !strings.EqualFold(c.Key, key) {
			out = append(out, c)
		}
	}
	p.Changes = out
}

func (p *Plan) unplaced(from, value, why string) {
	p.Unplaced = append(p.Unplaced, Unplaced{From: from, Value: value, Why: why})
}

// dedupe keeps the last change per file and key, in first-seen order.
func (p *Plan) dedupe() {
	last := map[string]int{}
	for i, c := range p.Changes {
		last[c.File+"\x00"+strings.ToLower(c.Key)] = i
	}
	var out []Change
	for i, c := range p.Changes {
		if last[c.File+"\x00"+strings.ToLower(c.Key)] == i {
			out = append(out, c)
		}
	}
	p.Changes = out
	sort.SliceStable(p.Unplaced, func(i, j int) bool { return p.Unplaced[i].Why < p.Unplaced[j].Why })
}

// Lookup returns the change for a 3.8.3 file and key (tests, --plan).
func (p *Plan) Lookup(file, key string) (Change, bool) {
	for _, c := range p.Changes {
		if c.File == file && strings.EqualFold(c.Key, key) {
			return c, true
		}
	}
	return Change{}, false
}

// secrets are the 3.8.3 keys whose values go to the env file.
var secrets = map[string]bool{
	"share.yml:secret": true, "mongodb.yml:password": true, "redis.yml:password": true,
	"kafka.yml:password": true, "kafka.yml:tls.clientKeyPwd": true,
	"minio.yml:secretAccessKey": true, "minio.yml:sessionToken": true,
	"discovery.yml:etcd.password": true, "discovery.yml:zooKeeper.password": true,
	"openim-rpc-third.yml:object.cos.secretKey": true, "openim-rpc-third.yml:object.cos.sessionToken": true,
	"openim-rpc-third.yml:object.oss.accessKeySecret": true, "openim-rpc-third.yml:object.oss.sessionToken": true,
	"openim-rpc-third.yml:object.kodo.accessKeySecret": true, "openim-rpc-third.yml:object.kodo.sessionToken": true,
	"openim-rpc-third.yml:object.aws.secretAccessKey": true, "openim-rpc-third.yml:object.aws.sessionToken": true,
	"openim-push.yml:geTui.masterSecret": true, "openim-push.yml:jpush.masterSecret": true,
}

func isSecret(file, key string, v *yaml.Node) bool {
	if file == "mongodb.yml" && key == "uri" {
		return v != nil && strings.Contains(v.Value, "@") // credentials in the URI
	}
	return secrets[file+":"+key]
}

// mask renders a value for the report; secrets are never shown.
func mask(v *yaml.Node, secret bool) string {
	if v == nil {
		return "(none)"
	}
	if secret {
		if v.Value == "" {
			return "''"
		}
		return "****"
	}
	return render(v)
}

func render(v *yaml.Node) string {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return "(empty)"
		}
		if v.Value == "" {
			return "''"
		}
		return v.Value
	case yaml.SequenceNode:
		parts := make([]string, len(v.Content))
		for i, c := range v.Content {
			parts[i] = render(c)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

// same reports whether two nodes hold the same data.
func same(a, b *yaml.Node) bool {
	var x, y any
	if a != nil && a.Decode(&x) != nil {
		return false
	}
	if b != nil && b.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(norm(x), norm(y))
}

// norm treats null and "" alike (unset in either release).
func norm(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func listNode(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, strNode(s))
	}
	return n
}

func intListNode(items []int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, i := range items {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(i)})
	}
	return n
}
