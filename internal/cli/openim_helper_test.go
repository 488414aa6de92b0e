//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade"
)

// writeOpenIMConfig gives a stand-in test the OpenIM config dir `run`
// checks: OpenIM 3.8.3's shipped files, with api.ports set to the test's
// port for openim-api (as an operator would), so the supervisor's ports:
// agree with OpenIM's.
func writeOpenIMConfig(t *testing.T, dir string, procs []procSpec) {
	t.Helper()
	if _, err := openimconf.WriteDefaults(dir, "3.8.3", false); err != nil {
		t.Fatal(err)
	}
	// With OpenIM's mongodb.yml present, run's data gate would wait for
	// MongoDB; a stand-in set has none. Record the data version, as an
	// installation that ran `openim-supervisor upgrade` has it.
	st := &upgrade.State{DataVersion: "3.8.3"}
	if err := st.Save(filepath.Join(filepath.Dir(dir), "state")); err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		svc, ok := openimconf.ServiceByName(p.name)
		if !ok || svc.Public == "" || len(p.ports) == 0 {
			continue
		}
		path := filepath.Join(dir, svc.File)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		spec, _ := openimconf.Spec(svc.File)
		f, err := openimconf.ParseFile(spec, path, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Set(svc.Public, p.ports); err != nil {
			t.Fatal(err)
		}
		if err := f.Write(path); err != nil {
			t.Fatal(err)
		}
	}
}
