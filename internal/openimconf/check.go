package openimconf

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// Report is what Check finds. Errors make OpenIM fail or run on values
// nobody chose (a zero port, an empty admin list, no database address);
// `config check` and `run` refuse them. Warnings are settings that have no
// effect (a key OpenIM 3.8.3 does not read, an IMENV_ variable that matches
// no key); they are shown and do not stop anything.
type Report struct {
	Errors   config.Errors
	Warnings config.Errors
	// Notes are facts worth a line (e.g. the version stamp is missing).
	Notes []string
}

// OK reports whether there are no errors.
func (r *Report) OK() bool { return len(r.Errors) == 0 }

func (r *Report) errf(file string, line int, key, fix, format string, a ...any) {
	r.Errors = append(r.Errors, &config.Error{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, a...), Fix: fix})
}

func (r *Report) warnf(file string, line int, key, fix, format string, a ...any) {
	r.Warnings = append(r.Warnings, &config.Error{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, a...), Fix: fix})
}

// CheckOptions tune Check.
type CheckOptions struct {
	// Shipped is the OpenIM release whose shipped files (Defaults) a fix
	// quotes for a missing key or file; default Version.
	Shipped string
}

// knownQuirks explain keys OpenIM 3.8.3's own files carry but its structs
// do not read.
var knownQuirks = map[string]string{
	"redis.yml:db": "OpenIM 3.8.3 reads the Redis database number from `storage`, not `db` (its own file has this mistake); " +
		"write `storage: N` to choose a database",
	"notification.yml:groupCancelMuted.defaultTips": "OpenIM 3.8.3's notification settings have no defaultTips (its own file has it); it has no effect",
	"openim-rpc-third.yml:object.aws.publicRead":    "OpenIM 3.8.3's aws settings have no publicRead; it has no effect",
}

// Check checks a loaded dir against OpenIM 3.8.3's structs and its needs:
// files and keys it needs, keys it ignores, values it cannot decode,
// component addresses, the secret and admin list, and IMENV_ variables
// that do nothing.
func Check(d *Dir, o CheckOptions) *Report {
	r := &Report{}
	if o.Shipped == "" {
		o.Shipped = Version
	}
	defaults := shippedDir(o.Shipped)
	for _, name := range d.Missing {
		fix := "write OpenIM's shipped one with `openim-supervisor config defaults` (it keeps the files you have)"
		r.errf(d.FilePath(name), 0, "", fix, "missing: OpenIM %s's services fail to start without it", Version)
	}
	for _, spec := range Files() {
		f := d.Files[spec.Name]
		if f == nil {
			continue
		}
		t := reflect.TypeOf(spec.New()).Elem()
		for _, is := range schemaIssues(t, f.Root) {
			switch {
			case is.Missing:
				if defaults != nil && defaults.Files[spec.Name] != nil && defaults.Line(spec.Name, is.Key) == 0 {
					continue // the release this binary ships does not have it either
				}
				fix := "add it; without it OpenIM runs with a zero value"
				if v, ok := defaultValue(defaults, spec.Name, is.Key); ok {
					fix = fmt.Sprintf("add it (OpenIM %s ships `%s: %s`); without it OpenIM runs with a zero value", Version, lastKey(is.Key), v)
				}
				r.errf(f.Path, is.Line, is.Key, fix, "missing: OpenIM %s reads this key", Version)
			case is.Null:
				r.errf(f.Path, is.Line, is.Key, "give the section its keys, or copy it from OpenIM's shipped file",
					"has no value: OpenIM %s reads every key under it as zero", Version)
			default:
				if why, ok := knownQuirks[spec.Name+":"+is.Key]; ok {
					r.warnf(f.Path, is.Line, is.Key, "", "ignored by OpenIM %s: %s", Version, why)
				} else {
					r.warnf(f.Path, is.Line, is.Key, "check the spelling against OpenIM "+Version+"'s shipped file, or remove it",
						"unknown to OpenIM %s: its loader ignores this key", Version)
				}
			}
		}
		for _, l := range d.Leaves(f) {
			if l.ShadowedBy != "" {
				r.warnf(f.Path, l.Line, l.Key, "unset "+l.ShadowedBy+"; override "+l.Var+" instead",
					"%s (%s) names a parent of this key, so OpenIM reads this key as zero", l.ShadowedBy, d.envWhere(l.ShadowedBy))
			}
		}
	}
	if _, err := d.Typed(); err != nil {
		r.Errors = append(r.Errors, flatten(err)...)
	}
	checkEnv(d, r)
	checkNeeds(d, r)
	sortErrs(r.Errors)
	sortErrs(r.Warnings)
	return r
}

func lastKey(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[i+1:]
	}
	return k
}

// shippedDir is the shipped files of a release as a Dir (nil when unknown).
func shippedDir(version string) *Dir {
	files, err := Defaults(version)
	if err != nil {
		return nil
	}
	d := &Dir{Path: "(OpenIM " + version + ")", Files: map[string]*File{}, lookup: NoEnviron}
	for _, s := range Files() {
		if b, ok := files[s.Name]; ok {
			if f, err := parseFile(s, s.Name, b); err == nil {
				d.Files[s.Name] = f
			}
		}
	}
	return d
}

// defaultValue renders a key's value in the pristine files (scalars and
// flow lists only).
func defaultValue(defaults *Dir, name, key string) (string, bool) {
	if defaults == nil || defaults.Files[name] == nil || defaults.Files[name].Root == nil {
		return "", false
	}
	_, v := lookup(defaults.Files[name].Root, key)
	if v == nil {
		return "", false
	}
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Value == "" {
			return "''", true
		}
		return v.Value, true
	case yaml.SequenceNode:
		parts := make([]string, 0, len(v.Content))
		for _, c := range v.Content {
			parts = append(parts, c.Value)
		}
		return "[" + strings.Join(parts, ", ") + "]", true
	}
	return "", false
}

// checkEnv warns about IMENV_ variables that OpenIM ignores: one that
// matches no key of its file (OpenIM only overrides keys present in the
// file), and one that is set but empty (OpenIM treats it as unset).
func checkEnv(d *Dir, r *Report) {
	names := map[string]bool{}
	for k := range d.env {
		names[k] = true
	}
	if d.lookup != nil {
		for _, kv := range environ(d) {
			names[kv] = true
		}
	}
	prefixes := Files()
	sorted := make([]string, 0, len(names))
	for n := range names {
		if strings.HasPrefix(n, "IMENV_") {
			sorted = append(sorted, n)
		}
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		where, empty, ok := d.setenv(name)
		if !ok {
			continue
		}
		spec, key, found := matchVar(prefixes, name)
		if !found {
			r.warnf("", 0, name, "check the file part of the name against OpenIM "+Version+"'s files",
				"(%s) names no OpenIM %s config file; nothing reads it", where, Version)
			continue
		}
		f := d.Files[spec.Name]
		matched, parent := false, false
		for _, l := range d.Leaves(f) {
			if l.Var == name {
				matched = true
			}
			if strings.HasPrefix(l.Var, name+"_") {
				parent = true
			}
		}
		switch {
		case !matched && !parent:
			r.warnf("", 0, name, fmt.Sprintf("add the key to %s (OpenIM only overrides keys present in the file), or fix the name", spec.Name),
				"(%s) matches no key of %s (%s); OpenIM ignores it", where, spec.Name, strings.ToLower(key))
		case matched && empty:
			r.warnf("", 0, name, "give it a value, or remove it; to clear a setting, edit "+spec.Name,
				"(%s) is empty; OpenIM treats an empty variable as unset and uses the file's value", where)
		}
	}
}

// environ lists the names of the process environment's IMENV_ variables
// when the lookup is the real environment.
func environ(d *Dir) []string {
	var out []string
	for _, kv := range osEnviron() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "IMENV_") {
			if _, ok := d.lookup(name); ok {
				out = append(out, name)
			}
		}
	}
	return out
}

// matchVar finds the file whose prefix starts name (the longest prefix:
// IMENV_OPENIM_RPC_USER before IMENV_OPENIM_RPC...).
func matchVar(specs []FileSpec, name string) (FileSpec, string, bool) {
	var best FileSpec
	for _, s := range specs {
		if strings.HasPrefix(name, s.Prefix+"_") && len(s.Prefix) > len(best.Prefix) {
			best = s
		}
	}
	if best.Name == "" {
		return best, "", false
	}
	return best, strings.TrimPrefix(name, best.Prefix+"_"), true
}

// checkNeeds checks what OpenIM needs to start and serve: the secret, the
// admin list, each component's address, and a known discovery kind.
func checkNeeds(d *Dir, r *Report) {
	c, _ := d.Typed() // decode errors are reported already
	need := func(name, key string, empty bool, what string) {
		f := d.Files[name]
		if f == nil || !empty {
			return
		}
		line := d.Line(name, key)
		if line == 0 {
			return // reported as a missing key
		}
		fix := "set " + key + " in " + name + ", or " + EnvVar(name, key) + " in the env file"
		r.errf(f.Path, line, key, fix, "%s", what)
	}
	need("share.yml", "secret", c.Share.Secret == "", "is empty: OpenIM issues admin tokens against this secret")
	need("share.yml", "imAdminUserID", len(nonEmpty(c.Share.IMAdminUserID)) == 0, "lists no admin user: nobody can get an admin token")
	need("mongodb.yml", "address", c.Mongo.URI == "" && len(nonEmpty(c.Mongo.Address)) == 0,
		"no MongoDB address (and no uri): every service fails to connect")
	if f := d.Files["mongodb.yml"]; f != nil && c.Mongo.URI == "" && len(nonEmpty(c.Mongo.Address)) > 0 && (c.Mongo.Username == "" || c.Mongo.Password == "") {
		line := d.Line("mongodb.yml", "username")
		if c.Mongo.Username != "" {
			line = d.Line("mongodb.yml", "password")
		}
		r.errf(f.Path, line, "uri", "set username and password, or, for a MongoDB without authentication, uri: mongodb://HOST:PORT/DATABASE",
			"no uri and no username/password pair: OpenIM %s then connects to mongodb://@ADDRESS/..., which the MongoDB driver rejects "+
				"(\"username required if URI contains user info\")", Version)
	}
	need("redis.yml", "address", len(nonEmpty(c.Redis.Address)) == 0, "no Redis address: every service fails to connect")
	need("kafka.yml", "address", len(nonEmpty(c.Kafka.Address)) == 0, "no Kafka address: messages cannot be sent")
	switch c.Discovery.Enable {
	case "etcd":
		need("discovery.yml", "etcd.address", len(nonEmpty(c.Discovery.Etcd.Address)) == 0, "no etcd address while enable is etcd")
	case "zookeeper":
		need("discovery.yml", "zooKeeper.address", len(nonEmpty(c.Discovery.ZooKeeper.Address)) == 0, "no ZooKeeper address while enable is zookeeper")
	case "k8s":
	default:
		if f := d.Files["discovery.yml"]; f != nil {
			r.errf(f.Path, d.Line("discovery.yml", "enable"), "enable", "write enable: etcd (or zookeeper, k8s)",
				"%q is not a discovery OpenIM %s knows (etcd, zookeeper, k8s)", c.Discovery.Enable, Version)
		}
	}
	if c.Third.Object.Enable == "minio" {
		need("minio.yml", "internalAddress", c.Minio.InternalAddress == "", "no MinIO address while openim-rpc-third.yml object.enable is minio")
		need("minio.yml", "externalAddress", c.Minio.ExternalAddress == "", "no MinIO external address: clients cannot fetch files")
	}
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// flatten turns nested config.Errors into one list.
func flatten(err error) config.Errors {
	var es config.Errors
	if !errors.As(err, &es) {
		return config.Errors{err}
	}
	var out config.Errors
	for _, e := range es {
		out = append(out, flatten(e)...)
	}
	return out
}

func sortErrs(es config.Errors) {
	at := func(e error) (string, int) {
		var ce *config.Error
		if errors.As(e, &ce) {
			return ce.File, ce.Line
		}
		return "", 0
	}
	sort.SliceStable(es, func(i, j int) bool {
		af, al := at(es[i])
		bf, bl := at(es[j])
		if af != bf {
			return af < bf
		}
		return al < bl
	})
}
