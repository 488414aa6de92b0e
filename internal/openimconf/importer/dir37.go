package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// moved37 are the 3.7 keys whose place changed in 3.8.3 (file:key → file:key).
var moved37 = map[string]string{
	"share.yml:env":                              "discovery.yml:enable",
	"openim-msggateway.yml:multiLoginPolicy":     "share.yml:multiLogin.policy",
	"openim-crontask.yml:chatRecordsClearTime":   "openim-crontask.yml:cronExecuteTime",
	"openim-push.yml:fcm.serviceAccount":         "openim-push.yml:fcm.filePath",
	"openim-push.yml:jpns.appKey":                "openim-push.yml:jpush.appKey",
	"openim-push.yml:jpns.masterSecret":          "openim-push.yml:jpush.masterSecret",
	"openim-push.yml:jpns.pushURL":               "openim-push.yml:jpush.pushURL",
	"openim-push.yml:jpns.pushIntent":            "openim-push.yml:jpush.pushIntent",
	"zookeeper.yml:schema":                       "discovery.yml:zooKeeper.schema",
	"zookeeper.yml:address":                      "discovery.yml:zooKeeper.address",
	"zookeeper.yml:username":                     "discovery.yml:zooKeeper.username",
	"zookeeper.yml:password":                     "discovery.yml:zooKeeper.password",
	"openim-rpc-third.yml:object.aws.publicRead": "",
	"redis.yml:enablePipeline":                   "",
}

// why37 explains 3.7 keys without a place.
var why37 = map[string]string{
	"redis.yml:enablePipeline":                   "OpenIM 3.8.3's redis.yml has no enablePipeline",
	"openim-rpc-third.yml:object.aws.publicRead": "OpenIM 3.8.3's aws settings have no publicRead",
}

// always37 are the 3.8.3 keys carried even at the 3.7 default: they name
// things in the operator's world (addresses, credentials, the secret).
func always37(file, key string) bool {
	switch file {
	case "mongodb.yml", "discovery.yml":
		return key != "maxPoolSize" && key != "maxRetry"
	case "redis.yml":
		return key == "address" || key == "username" || key == "password" || key == "clusterMode"
	case "kafka.yml":
		return key == "address" || key == "username" || key == "password" || strings.HasPrefix(key, "tls.")
	case "minio.yml":
		return key != "publicRead"
	case "share.yml":
		return key == "secret" || key == "imAdminUserID"
	case "openim-rpc-third.yml":
		return strings.HasPrefix(key, "object.") && !strings.HasSuffix(key, "publicRead")
	}
	return secrets[file+":"+key]
}

// readDir37 plans the import of an OpenIM 3.7 config dir, with the IMENV_
// variables of the env files applied as OpenIM 3.7 applied them (the same
// viper rules as 3.8.3; zookeeper.yml's prefix is IMENV_ZOOKEEPER).
func readDir37(src *source, env map[string]envVar, o Options) (*Plan, error) {
	if o.Version != "" && !strings.HasPrefix(strings.TrimPrefix(o.Version, "v"), "3.7") {
		return nil, fmt.Errorf("--openim-version %s: a directory of yml files with zookeeper.yml is OpenIM 3.7", o.Version)
	}
	p := &Plan{Version: "3.7.1", Layout: "yml files with zookeeper.yml (OpenIM 3.7)", Source: src.path}
	ents, err := os.ReadDir(src.path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	used := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".yml") {
			continue
		}
		switch name {
		case "prometheus.yml", "alertmanager.yml", "instance-down-rules.yml":
			p.unplaced(name, "", "a monitoring file, not read by OpenIM's services; copy it to your Prometheus setup if you use it")
			continue
		}
		b, err := os.ReadFile(filepath.Join(src.path, name))
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		root, err := parseYAML(filepath.Join(src.path, name), b)
		if err != nil {
			return nil, err
		}
		def := legacyFile("3.7.1", name)
		prefix := openimconf.EnvPrefix(name)
		_, known := openimconf.Spec(name)
		if name == "zookeeper.yml" {
			known = true
		}
		if !known {
			p.unplaced(name, "", "not a file OpenIM 3.7 or 3.8.3 reads")
			continue
		}
		spec, in383 := openimconf.Spec(name)
		keys383 := map[string]string{}
		if in383 {
			for _, k := range openimconf.KnownKeys(spec) {
				keys383[strings.ToLower(k)] = k
			}
		}
		for _, l := range leaves(root) {
			from := fmt.Sprintf("%s:%d %s", name, l.Line, l.Key)
			node := l.Node
			envName := strings.ToUpper(prefix + "_" + strings.ReplaceAll(l.Key, ".", "_"))
			if ev, ok := env[envName]; ok && ev.Value != "" {
				used[envName] = true
				node = envNode(ev.Value, l.Node)
				from = "env " + ev.From + " " + envName + " (over " + from + ")"
			}
			dest, moved := moved37[name+":"+l.Key]
			file, key := name, l.Key
			switch {
			case moved && dest == "":
				p.unplaced(from, mask(node, looksSecret(l.Key)), why37[name+":"+l.Key])
				continue
			case moved:
				file, key, _ = strings.Cut(dest, ":")
			default:
				k, ok := keys383[strings.ToLower(l.Key)]
				if !ok {
					p.unplaced(from, mask(node, looksSecret(l.Key)), "OpenIM 3.8.3's "+name+" has no such setting")
					continue
				}
				key = k
			}
			if !always37(file, key) && same(node, yamlnode.Path(def, l.Key)) {
				p.Defaulted = append(p.Defaulted, from)
				continue
			}
			p.set(file, key, convert(target{file, key}, node), from)
		}
	}
	for k, v := range env {
		if used[k] {
			continue
		}
		why := "not an IMENV_ variable of OpenIM 3.7's config (a docker-compose setting)"
		if strings.HasPrefix(k, "IMENV_") {
			why = "matches no key of OpenIM 3.7's files (OpenIM ignored it)"
			if v.Value == "" {
				why = "empty (OpenIM ignored it)"
			}
		}
		p.unplaced("env "+v.From+" "+k, maskEnv(k, v.Value), why)
	}
	p.authSource(yamlnode.Path(legacyFile("3.7.1", "mongodb.yml"), "database"))
	if b, err := os.ReadFile(filepath.Join(src.path, "mongodb.yml")); err == nil {
		if root, err := parseYAML("mongodb.yml", b); err == nil {
			p.mongoWithoutAuth(root)
		}
	}
	p.discoveryNote()
	return p, nil
}

// envNode turns an IMENV_ value into a node shaped like the file's value
// (viper splits lists on commas).
func envNode(v string, like *yaml.Node) *yaml.Node {
	if like != nil && like.Kind == yaml.SequenceNode {
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, s := range strings.Split(v, ",") {
			c := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
			c.Tag = "!!str"
			if len(like.Content) > 0 && like.Content[0].Tag == "!!int" {
				c.Tag = "!!int"
			}
			n.Content = append(n.Content, c)
		}
		return n
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	if like != nil && (like.Tag == "!!int" || like.Tag == "!!bool") {
		n.Tag = like.Tag
	}
	return n
}
