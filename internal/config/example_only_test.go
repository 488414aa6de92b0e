package config

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// summary lists a loaded config's processes as "name xN" with "|" after
// each barrier.
func summary(cfg *Config) string {
	var parts []string
	for _, p := range cfg.Processes {
		s := p.Name
		if n := len(cfg.instancesOf(p.Name)); n != 1 {
			s += " x" + strconv.Itoa(n)
		}
		if p.Barrier {
			s += " |"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func (c *Config) instancesOf(name string) []Instance {
	var out []Instance
	for _, in := range c.Instances() {
		if in.Process == name {
			out = append(out, in)
		}
	}
	return out
}

// A fleet host's share of the set (init --processes): the example's
// settings, only those programs, in the example's order, with a barrier
// wherever one of the example's steps ends before a later step present.
func TestExampleOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		only string
		want string
	}{
		{"core: the RPC services and the API", "openim-api,openim-rpc-auth,openim-rpc-user,openim-rpc-friend,openim-rpc-group,openim-rpc-conversation,openim-rpc-third,openim-rpc-msg",
			"openim-rpc-auth openim-rpc-user openim-rpc-friend openim-rpc-group openim-rpc-conversation openim-rpc-third openim-rpc-msg | openim-api"},
		{"gateway alone", "openim-msggateway", "openim-msggateway"},
		{"workers, fewer push instances", "openim-msgtransfer,openim-push=4", "openim-push x4 | openim-msgtransfer x8"},
		{"API and crontask: steps 2 and 4", "openim-crontask,openim-api", "openim-api | openim-crontask"},
		{"the whole set", strings.Join(openimNames[:12], ","),
			"openim-rpc-auth openim-rpc-user openim-rpc-friend openim-rpc-group openim-rpc-conversation openim-rpc-third openim-rpc-msg | " +
				"openim-api | openim-push x8 openim-msggateway | openim-msgtransfer x8 openim-crontask"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			only, err := ParseExampleProcesses(tc.only)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			tree(t, dir, openimNames...)
			writeFile(t, filepath.Join(dir, "openim.env"), string(ExampleEnv), 0o600)
			text, err := ExampleOnly(examplePathsIn(dir), ExampleSelection{Processes: only})
			if err != nil {
				t.Fatal(err)
			}
			cfg, _, err := load(t, dir, string(text), nil)
			if err != nil {
				t.Fatalf("does not load:\n%v\n%s", err, text)
			}
			if got := summary(cfg); got != tc.want {
				t.Errorf("processes %q\nwant      %q", got, tc.want)
			}
			full, _, err := load(t, dir, string(Example(examplePathsIn(dir))), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Defaults, full.Defaults) || !reflect.DeepEqual(cfg.PreStart, full.PreStart) {
				t.Errorf("defaults or pre-start differ from the example's")
			}
			if tc.name == "workers, fewer push instances" {
				if push := cfg.instancesOf("openim-push"); push[3].Ready.GRPC != "127.0.0.1:10173" {
					t.Errorf("openim-push:3 ready %+v, want the example's fourth port", push[3].Ready)
				}
			}
		})
	}
}

func TestExampleOnlyRefuses(t *testing.T) {
	t.Parallel()
	p := examplePathsIn(t.TempDir())
	for only, want := range map[string]string{
		"openim-api,openim-chat": "openim-chat not in the example's set (openim-rpc-auth,",
		"openim-push=9":          "openim-push=9: the example lists 8 port(s) for openim-push",
	} {
		o, err := ParseExampleProcesses(only)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ExampleOnly(p, ExampleSelection{Processes: o}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", only, err, want)
		}
	}
	for _, bad := range []string{"", " , ", "openim-push=0", "openim-push=x"} {
		if _, err := ParseExampleProcesses(bad); err == nil {
			t.Errorf("%q: parsed", bad)
		}
	}
}

func TestExampleOnlyPreStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tree(t, dir, openimNames...)
	writeFile(t, filepath.Join(dir, "openim.env"), string(ExampleEnv), 0o600)
	for _, tc := range []struct {
		tools []string
		want  []string
	}{
		{nil, nil},
		{[]string{"check-component"}, []string{"check-component"}},
	} {
		text, err := ExampleOnly(examplePathsIn(dir), ExampleSelection{PreStart: tc.tools, SetPreStart: true})
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := load(t, dir, string(text), nil)
		if err != nil {
			t.Fatalf("does not load:\n%v\n%s", err, text)
		}
		var got []string
		for _, tool := range cfg.PreStart {
			got = append(got, tool.Name)
		}
		if !reflect.DeepEqual(got, tc.want) || len(cfg.Processes) != 12 {
			t.Errorf("pre-start %v: got %v and %d processes", tc.tools, got, len(cfg.Processes))
		}
	}
	if _, err := ExampleOnly(examplePathsIn(dir), ExampleSelection{PreStart: []string{"seq"}, SetPreStart: true}); err == nil ||
		!strings.Contains(err.Error(), "seq not in the example's set (check-free-memory, check-component)") {
		t.Errorf("seq: %v", err)
	}
}
