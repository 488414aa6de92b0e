package merge

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

func shipped(t *testing.T) map[string][]byte {
	t.Helper()
	f, err := openimconf.Defaults("3.8.3")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func edit(t *testing.T, files map[string][]byte, name, old, new string) {
	t.Helper()
	s := string(files[name])
	if !strings.Contains(s, old) {
		t.Fatalf("%s has no %q", name, old)
	}
	files[name] = []byte(strings.Replace(s, old, new, 1))
}

func clone(m map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = append([]byte(nil), v...)
	}
	return out
}

func value(t *testing.T, b []byte, key string) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return show(get(doc.Content[0], key))
}

func result(t *testing.T, rs []FileResult, name string) FileResult {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result for %s", name)
	return FileResult{}
}

// TestMergeOpenIMFiles: OpenIM 3.8.3's files as base; a "next release"
// that adds keys, renames share.yml imAdminUserID to imAdminUser.userIDs
// (as OpenIM's main branch does) and changes two defaults; an operator who
// edited share.yml and openim-api.yml (one edit conflicts).
func TestMergeOpenIMFiles(t *testing.T) {
	t.Parallel()
	base := shipped(t)
	theirs := clone(base)
	edit(t, theirs, "share.yml", "imAdminUserID: [ imAdmin ]",
		"# imAdminUser: administrators\nimAdminUser:\n  # userIDs: their user IDs\n  userIDs: [ imAdmin ]\n  nicknames: [ superAdmin ]")
	theirs["share.yml"] = append(theirs["share.yml"], []byte("\n# rpcMaxBodySize: limits of one RPC\nrpcMaxBodySize:\n  requestMaxBodySize: 8388608\n")...)
	edit(t, theirs, "openim-api.yml", "compressionLevel: 0", "compressionLevel: 1")
	edit(t, theirs, "openim-api.yml", "grafanaURL: http://127.0.0.1:13000/", "grafanaURL: http://127.0.0.1:13001/")
	edit(t, theirs, "redis.yml", "db: 0\n", "")

	mine := clone(base)
	edit(t, mine, "share.yml", "secret: openIM123", "secret: operator-secret # rotated 2026-11")
	edit(t, mine, "share.yml", "imAdminUserID: [ imAdmin ]", "imAdminUserID: [ ops1, ops2 ]")
	edit(t, mine, "share.yml", "maxNumOneEnd: 30", "maxNumOneEnd: 5")
	edit(t, mine, "openim-api.yml", "compressionLevel: 0", "compressionLevel: 2") // true conflict
	edit(t, mine, "openim-api.yml", "ports: [ 10002 ]", "ports: [ 10102 ]")
	ops := []Op{{File: "share.yml", Key: "imAdminUserID", ToFile: "share.yml", ToKey: "imAdminUser.userIDs"}}

	rs, err := Dir(mine, base, theirs, ops)
	if err != nil {
		t.Fatal(err)
	}
	share := result(t, rs, "share.yml")
	for key, want := range map[string]string{
		"secret":                            "operator-secret",
		"imAdminUser.userIDs":               "[ops1, ops2]",
		"imAdminUser.nicknames":             "[superAdmin]",
		"multiLogin.maxNumOneEnd":           "5",
		"rpcMaxBodySize.requestMaxBodySize": "8388608",
		"imAdminUserID":                     "(none)",
	} {
		if got := value(t, share.Out, key); got != want {
			t.Errorf("share.yml %s = %s, want %s\n%s", key, got, want, share.Out)
		}
	}
	if !strings.Contains(string(share.Out), "# rotated 2026-11") || !strings.Contains(string(share.Out), "# rpcMaxBodySize: limits of one RPC") {
		t.Errorf("comments lost:\n%s", share.Out)
	}
	if len(share.Conflicts) != 0 || len(share.Moved) != 1 {
		t.Errorf("share.yml: conflicts %v moved %v", share.Conflicts, share.Moved)
	}
	// order: secret stays first, multiLogin after imAdminUser
	s := string(share.Out)
	if !(strings.Index(s, "secret:") < strings.Index(s, "rpcRegisterName:") && strings.Index(s, "rpcRegisterName:") < strings.Index(s, "multiLogin:")) {
		t.Errorf("order changed:\n%s", s)
	}

	api := result(t, rs, "openim-api.yml")
	if got := value(t, api.Out, "api.compressionLevel"); got != "2" {
		t.Errorf("conflict: yours not kept: %s", got)
	}
	if got := value(t, api.Out, "prometheus.grafanaURL"); got != "http://127.0.0.1:13001/" {
		t.Errorf("an untouched default did not take the new one: %s", got)
	}
	if got := value(t, api.Out, "api.ports"); got != "[10102]" {
		t.Errorf("an edit was lost: %s", got)
	}
	if len(api.Conflicts) != 1 || api.Conflicts[0].Key != "api.compressionLevel" || api.Conflicts[0].Mine != "2" ||
		api.Conflicts[0].Base != "0" || api.Conflicts[0].New != "1" || api.Conflicts[0].Line != 7 {
		t.Errorf("conflicts: %+v", api.Conflicts)
	}
	if !strings.Contains(string(api.Out), "# API compression level") {
		t.Error("the comment of the conflicting key is lost")
	}
	redis := result(t, rs, "redis.yml")
	if value(t, redis.Out, "db") != "(none)" || len(redis.Removed) != 1 {
		t.Errorf("a dropped key left at its default was not removed: %v\n%s", redis.Removed, redis.Out)
	}
	for _, r := range rs {
		switch r.Name {
		case "share.yml", "openim-api.yml", "redis.yml":
		default:
			if r.Changed || string(r.Out) != string(mine[r.Name]) {
				t.Errorf("%s changed though nothing in it did", r.Name)
			}
		}
	}
}

func TestMergeRemovedAndDroppedConflicts(t *testing.T) {
	t.Parallel()
	base := shipped(t)
	theirs := clone(base)
	edit(t, theirs, "log.yml", "remainLogLevel: 6", "remainLogLevel: 3")
	edit(t, theirs, "redis.yml", "db: 0\n", "")
	mine := clone(base)
	edit(t, mine, "log.yml", "remainLogLevel: 6\n", "")
	edit(t, mine, "redis.yml", "db: 0", "db: 2")
	rs, err := Dir(mine, base, theirs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := result(t, rs, "log.yml").Conflicts; len(c) != 1 || !strings.Contains(c[0].Why, "you removed this key") {
		t.Errorf("log.yml: %+v", c)
	}
	r := result(t, rs, "redis.yml")
	if len(r.Conflicts) != 1 || !strings.Contains(r.Conflicts[0].Why, "dropped") || value(t, r.Out, "db") != "2" {
		t.Errorf("redis.yml: %+v\n%s", r.Conflicts, r.Out)
	}
}
