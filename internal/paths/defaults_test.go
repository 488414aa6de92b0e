package paths

import (
	"runtime"
	"testing"
)

func TestForMatchesOSAndKnowsEveryTarget(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "linux" {
		got, err := For("linux")
		if err != nil || got != OS() {
			t.Errorf("For(linux) = %+v, %v; OS() = %+v", got, err, OS())
		}
	}
	w, err := For("windows")
	if err != nil || w.StateDir != `C:\ProgramData\OpenIM\state` || w.BinDir != `C:\Program Files\OpenIM` {
		t.Errorf("For(windows) = %+v, %v", w, err)
	}
	d, err := For("darwin")
	if err != nil || d.ConfigFile != "/usr/local/etc/openim/config.yaml" {
		t.Errorf("For(darwin) = %+v, %v", d, err)
	}
	if _, err := For("plan9"); err == nil {
		t.Error("For(plan9): want an error")
	}
}
