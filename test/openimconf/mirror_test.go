// Package openimconf_test proves that internal/openimconf reads OpenIM's
// config exactly as OpenIM 3.8.3 does: its mirror structs have OpenIM's keys,
// nesting and kinds, its `optional` marks match OpenIM's shipped files, and
// decoding a dir (with IMENV_ variables) gives the values OpenIM's own
// loader gives.
package openimconf_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	oc "github.com/openimsdk/open-im-server/v3/pkg/common/config"
	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// theirs maps each file to OpenIM 3.8.3's struct for it.
func theirs() map[string]func() any {
	return map[string]func() any{
		"notification.yml":            func() any { return new(oc.Notification) },
		"share.yml":                   func() any { return new(oc.Share) },
		"webhooks.yml":                func() any { return new(oc.Webhooks) },
		"local-cache.yml":             func() any { return new(oc.LocalCache) },
		"kafka.yml":                   func() any { return new(oc.Kafka) },
		"redis.yml":                   func() any { return new(oc.Redis) },
		"mongodb.yml":                 func() any { return new(oc.Mongo) },
		"minio.yml":                   func() any { return new(oc.Minio) },
		"log.yml":                     func() any { return new(oc.Log) },
		"openim-api.yml":              func() any { return new(oc.API) },
		"openim-crontask.yml":         func() any { return new(oc.CronTask) },
		"openim-msggateway.yml":       func() any { return new(oc.MsgGateway) },
		"openim-msgtransfer.yml":      func() any { return new(oc.MsgTransfer) },
		"openim-push.yml":             func() any { return new(oc.Push) },
		"openim-rpc-auth.yml":         func() any { return new(oc.Auth) },
		"openim-rpc-conversation.yml": func() any { return new(oc.Conversation) },
		"openim-rpc-friend.yml":       func() any { return new(oc.Friend) },
		"openim-rpc-group.yml":        func() any { return new(oc.Group) },
		"openim-rpc-msg.yml":          func() any { return new(oc.Msg) },
		"openim-rpc-third.yml":        func() any { return new(oc.Third) },
		"openim-rpc-user.yml":         func() any { return new(oc.User) },
		"discovery.yml":               func() any { return new(oc.Discovery) },
	}
}

// key is the key mapstructure matches for a field (tag, else Go name),
// lower-cased since the match is case-insensitive.
func key(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
	if tag == "" {
		tag = f.Name
	}
	return strings.ToLower(tag)
}

// shape renders a type as "key kind" lines, nested keys dotted.
func shape(t reflect.Type, path string, out *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		k := path + key(f)
		ft := f.Type
		switch ft.Kind() {
		case reflect.Struct:
			shape(ft, k+".", out)
		case reflect.Slice:
			*out = append(*out, k+" []"+ft.Elem().Kind().String())
		default:
			*out = append(*out, k+" "+ft.Kind().String())
		}
	}
}

func TestMirrorMatchesOpenIM(t *testing.T) {
	specs := openimconf.Files()
	th := theirs()
	if len(specs) != len(th) || len(specs) != 22 {
		t.Fatalf("%d files in openimconf, %d here", len(specs), len(th))
	}
	for _, s := range specs {
		newTheirs, ok := th[s.Name]
		if !ok {
			t.Errorf("%s: not a file of OpenIM 3.8.3", s.Name)
			continue
		}
		var a, b []string
		shape(reflect.TypeOf(s.New()).Elem(), "", &a)
		shape(reflect.TypeOf(newTheirs()).Elem(), "", &b)
		sort.Strings(a)
		sort.Strings(b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the mirror differs from OpenIM's struct\n  only in the mirror: %v\n  only in OpenIM's:   %v",
				s.Name, minus(a, b), minus(b, a))
		}
	}
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func pristine(t *testing.T) string {
	t.Helper()
	// OpenIM's module, as this module depends on it.
	dir := filepath.Join(modDir(t), "config")
	if _, err := os.Stat(filepath.Join(dir, "share.yml")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOptionalMarks: a key the mirror does not mark optional is in every
// section of OpenIM's shipped file that has its struct; an optional one is
// missing from at least one.
func TestOptionalMarks(t *testing.T) {
	dir := pristine(t)
	for _, s := range openimconf.Files() {
		b, err := os.ReadFile(filepath.Join(dir, s.Name))
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		// field identity (type + field name) -> present in every section, missing in some
		present, missing := map[string]bool{}, map[string]bool{}
		var walk func(t reflect.Type, m *yaml.Node)
		walk = func(t reflect.Type, m *yaml.Node) {
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				id := t.String() + "." + f.Name
				var v *yaml.Node
				for j := 0; m != nil && j+1 < len(m.Content); j += 2 {
					if strings.EqualFold(m.Content[j].Value, key(f)) {
						v = m.Content[j+1]
					}
				}
				if v == nil {
					missing[id] = true
				} else {
					present[id] = true
				}
				if f.Type.Kind() == reflect.Struct && v != nil && v.Kind == yaml.MappingNode {
					walk(f.Type, v)
				}
			}
		}
		walk(reflect.TypeOf(s.New()).Elem(), doc.Content[0])
		var fails []string
		var check func(t reflect.Type)
		check = func(t reflect.Type) {
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				id := t.String() + "." + f.Name
				opt := f.Tag.Get("openim") == "optional"
				if !present[id] && !missing[id] {
					continue // its parent section is absent
				}
				if opt && !missing[id] {
					fails = append(fails, fmt.Sprintf("%s: %s is marked optional but every section of the shipped file has it", s.Name, id))
				}
				if !opt && missing[id] {
					fails = append(fails, fmt.Sprintf("%s: %s is missing from the shipped file but not marked optional", s.Name, id))
				}
				if f.Type.Kind() == reflect.Struct {
					check(f.Type)
				}
			}
		}
		check(reflect.TypeOf(s.New()).Elem())
		for _, f := range fails {
			t.Error(f)
		}
	}
}

// TestEmbeddedDefaultsAreOpenIMs: the files openim-supervisor embeds (and
// writes, merges against and quotes) are OpenIM 3.8.3's, byte for byte.
func TestEmbeddedDefaultsAreOpenIMs(t *testing.T) {
	files, err := openimconf.Defaults("3.8.3")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 22 {
		t.Errorf("%d embedded files, want 22", len(files))
	}
	dir := pristine(t)
	for name, b := range files {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(b) != string(want) {
			t.Errorf("%s differs from OpenIM 3.8.3's", name)
		}
	}
}
