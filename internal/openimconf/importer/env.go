package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// envVar is one variable of the old installation's environment.
type envVar struct {
	Value string
	From  string // "FILE:LINE"
}

// readEnv reads the given env files, or the first .env found next to the
// source, as KEY=VALUE lines (docker-compose's syntax: # comments, optional
// quotes, optional "export ").
func readEnv(src *source, files []string) (map[string]envVar, []string, error) {
	if len(files) == 0 {
		for _, d := range src.search {
			if p := existing(filepath.Join(d, ".env")); p != "" {
				files = []string{p}
				break
			}
		}
	}
	env := map[string]envVar{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("env file: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			line = strings.TrimPrefix(line, "export ")
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			env[strings.TrimSpace(k)] = envVar{Value: v, From: fmt.Sprintf("%s:%d", f, n)}
		}
	}
	return env, files, nil
}

// runtimeVars are the variables OpenIM 3.4.2–3.6 read from the environment
// at run time, over config.yaml (pkg/common/db/unrelation/mongo.go,
// db/cache/init_redis.go, kafka/util.go and producer.go,
// discoveryregister/zookeeper/zookeeper.go at each tag). 3.4.0 read none.
func runtimeVars(version string) map[string]bool {
	if version == "3.4.0" {
		return map[string]bool{}
	}
	vars := map[string]bool{
		"MONGO_URI": true, "MONGO_ADDRESS": true, "MONGO_PORT": true, "MONGO_DATABASE": true, "MONGO_MAX_POOL_SIZE": true,
		"REDIS_ADDRESS": true, "REDIS_USERNAME": true, "REDIS_PASSWORD": true,
		"KAFKA_ADDRESS": true, "KAFKA_USERNAME": true, "KAFKA_PASSWORD": true,
		"ZOOKEEPER_SCHEMA": true, "ZOOKEEPER_ADDRESS": true, "ZOOKEEPER_USERNAME": true, "ZOOKEEPER_PASSWORD": true,
	}
	if strings.HasPrefix(version, "3.6") {
		vars["MONGO_OPENIM_USERNAME"], vars["MONGO_OPENIM_PASSWORD"] = true, true
	} else {
		vars["MONGO_USERNAME"], vars["MONGO_PASSWORD"] = true, true
	}
	if version != "3.4.2" {
		vars["REDIS_PORT"], vars["KAFKA_PORT"], vars["ZOOKEEPER_PORT"], vars["ENVS_DISCOVERY"] = true, true, true, true
	}
	return vars
}

// withPort appends ":port" to each comma-separated address, as OpenIM did.
func withPort(addrs, port string) []string {
	var out []string
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if port != "" {
			a += ":" + port
		}
		out = append(out, a)
	}
	return out
}

// applyRuntimeEnv carries the variables OpenIM read at run time and lists
// the others of the env files as unplaced.
func (p *Plan) applyRuntimeEnv(env map[string]envVar) {
	vars := runtimeVars(p.Version)
	used := map[string]bool{}
	get := func(k string) (envVar, bool) {
		v, ok := env[k]
		if ok && vars[k] && v.Value != "" {
			used[k] = true
			return v, true
		}
		return v, false
	}
	from := func(vs ...envVar) string {
		parts := make([]string, 0, len(vs))
		for _, v := range vs {
			if v.From != "" {
				parts = append(parts, v.From)
			}
		}
		return "env " + strings.Join(parts, ", ")
	}
	if v, ok := get("MONGO_URI"); ok {
		p.set("mongodb.yml", "uri", strNode(v.Value), from(v))
	}
	if v, ok := get("MONGO_ADDRESS"); ok {
		port, _ := get("MONGO_PORT")
		p.set("mongodb.yml", "address", listNode(withPort(v.Value, port.Value)), from(v, port))
	}
	for _, k := range []string{"MONGO_USERNAME", "MONGO_OPENIM_USERNAME"} {
		if v, ok := get(k); ok {
			p.set("mongodb.yml", "username", strNode(v.Value), from(v))
		}
	}
	for _, k := range []string{"MONGO_PASSWORD", "MONGO_OPENIM_PASSWORD"} {
		if v, ok := get(k); ok {
			p.set("mongodb.yml", "password", strNode(v.Value), from(v))
		}
	}
	if v, ok := get("MONGO_DATABASE"); ok {
		p.set("mongodb.yml", "database", strNode(v.Value), from(v))
	}
	if v, ok := get("MONGO_MAX_POOL_SIZE"); ok {
		p.set("mongodb.yml", "maxPoolSize", intNode(v.Value), from(v))
	}
	if v, ok := get("REDIS_ADDRESS"); ok {
		port, _ := get("REDIS_PORT")
		p.set("redis.yml", "address", listNode(withPort(v.Value, port.Value)), from(v, port))
	}
	if v, ok := get("REDIS_USERNAME"); ok {
		p.set("redis.yml", "username", strNode(v.Value), from(v))
	}
	if v, ok := get("REDIS_PASSWORD"); ok {
		p.set("redis.yml", "password", strNode(v.Value), from(v))
	}
	if v, ok := get("KAFKA_ADDRESS"); ok {
		port, _ := get("KAFKA_PORT")
		if p.Version == "3.4.2" || port.Value != "" {
			p.set("kafka.yml", "address", listNode(withPort(v.Value, port.Value)), from(v, port))
		}
	}
	if v, ok := get("KAFKA_USERNAME"); ok {
		p.set("kafka.yml", "username", strNode(v.Value), from(v))
	}
	if v, ok := get("KAFKA_PASSWORD"); ok {
		p.set("kafka.yml", "password", strNode(v.Value), from(v))
	}
	if v, ok := get("ZOOKEEPER_SCHEMA"); ok {
		p.set("discovery.yml", "zooKeeper.schema", strNode(v.Value), from(v))
	}
	if v, ok := get("ZOOKEEPER_ADDRESS"); ok {
		port, _ := get("ZOOKEEPER_PORT")
		p.set("discovery.yml", "zooKeeper.address", listNode(withPort(v.Value, port.Value)), from(v, port))
	}
	if v, ok := get("ZOOKEEPER_USERNAME"); ok {
		p.set("discovery.yml", "zooKeeper.username", strNode(v.Value), from(v))
	}
	if v, ok := get("ZOOKEEPER_PASSWORD"); ok {
		p.set("discovery.yml", "zooKeeper.password", strNode(v.Value), from(v))
	}
	if v, ok := get("ENVS_DISCOVERY"); ok {
		p.set("discovery.yml", "enable", strNode(discoveryKind(v.Value)), from(v))
	}
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if used[k] {
			continue
		}
		v := env[k]
		why := "not read by OpenIM " + p.Version + " (a docker-compose or install-script setting)"
		switch {
		case vars[k] && v.Value == "":
			why = "empty: OpenIM " + p.Version + " ignored it"
		case (k == "MONGO_OPENIM_USERNAME" || k == "MONGO_OPENIM_PASSWORD") && !vars[k]:
			why = "read only from OpenIM 3.6 on; OpenIM " + p.Version + " ignored it"
		case (k == "MONGO_USERNAME" || k == "MONGO_PASSWORD") && !vars[k]:
			why = "OpenIM 3.6 reads MONGO_OPENIM_USERNAME/MONGO_OPENIM_PASSWORD instead; OpenIM " + p.Version + " ignored it"
		case (k == "REDIS_PORT" || k == "KAFKA_PORT" || k == "ZOOKEEPER_PORT") && vars[k]:
			why = "only used together with " + strings.TrimSuffix(k, "_PORT") + "_ADDRESS, which is not set"
		}
		p.unplaced("env "+v.From+" "+k, maskEnv(k, v.Value), why)
	}
}

// maskEnv hides values of variables that look like secrets.
func maskEnv(k, v string) string {
	u := strings.ToUpper(k)
	for _, s := range []string{"PASSWORD", "SECRET", "TOKEN", "KEY"} {
		if strings.Contains(u, s) && v != "" {
			return "****"
		}
	}
	if v == "" {
		return "''"
	}
	return v
}

// intNode is an int node from text (kept as written).
func intNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s} }
