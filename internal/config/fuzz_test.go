package config

import (
	"testing"
)

// FuzzParse feeds arbitrary documents to the loader: it must return a config
// or an error, never panic or hang, and a loaded config must resolve.
// CI runs it briefly; pass -fuzzminimizetime (e.g. 5s), since minimizing an
// input as large as the example seed otherwise takes minutes:
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 5s ./internal/config
func FuzzParse(f *testing.F) {
	f.Add(Example(DefaultExamplePaths()))
	f.Add([]byte(head + "processes:\n  - name: a\n    command: sh\n    args: [\"{port}\", \"${X:-1}\"]\n    ports: [1]\n    env: {A: \"${S}\"}\n"))
	f.Add([]byte("version: 2\nprocesses: &a [{name: x, command: sh}]\npreStart: *a\n"))
	f.Add([]byte("version: 1\nservices: {openim-api: 1}\n"))
	f.Add([]byte("version: 2\ndefaults: {backoff: {max: 1s}, ready: {tcp: 'h:{port}'}}\nlog: {maxSize: 1GiB}\n"))
	env := map[string]string{"X": "2", "S": "secret"}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, Options{SkipFileChecks: true, LookupEnv: envOf(env)})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		_ = cfg.Instances()
		_ = cfg.Tools()
	})
}
