package service

import (
	"strings"
	"testing"
)

func TestRenderUnit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, execStart, exe, cfg, want string
	}{
		{"defaults", "ExecStart=/usr/bin/openim-supervisor run --config /etc/openim/config.yaml",
			"/usr/bin/openim-supervisor", "/etc/openim/config.yaml",
			"ExecStart=/usr/bin/openim-supervisor run --config /etc/openim/config.yaml"},
		{"paths", "ExecStart=/usr/bin/openim-supervisor run --config /etc/openim/config.yaml",
			"/opt/o/bin/openim-supervisor", "/srv/o/config.yaml",
			"ExecStart=/opt/o/bin/openim-supervisor run --config /srv/o/config.yaml"},
		{"equals form and prefix", "ExecStart=-/usr/bin/openim-supervisor run --config=/etc/openim/config.yaml --x",
			"/a/b", "/c/d.yaml", "ExecStart=-/a/b run --config=/c/d.yaml --x"},
		{"no config flag", "ExecStart=/usr/bin/openim-supervisor run",
			"/a/b", "/c/d.yaml", "ExecStart=/a/b run --config /c/d.yaml"},
		{"spaces and percent", "ExecStart=/usr/bin/openim-supervisor run --config /etc/openim/config.yaml",
			"/opt/my dir/sup", "/etc/100%/c.yaml",
			`ExecStart="/opt/my dir/sup" run --config /etc/100%%/c.yaml`},
	}
	for _, c := range cases {
		unit := "[Service]\nType=notify\n" + c.execStart + "\nKillMode=mixed\n"
		got, err := RenderUnit(unit, c.exe, c.cfg)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		want := "[Service]\nType=notify\n" + c.want + "\nKillMode=mixed\n"
		if got != want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, want)
		}
	}
	for _, bad := range []string{"[Service]\nType=simple\n", "ExecStart=\n", "ExecStart=/a\nExecStart=/b\n", "ExecStart=/a run --config\n"} {
		if _, err := RenderUnit(bad, "/x", "/y"); err == nil {
			t.Errorf("RenderUnit(%q) succeeded, want an error", bad)
		}
	}
}

func TestWindowsConfigSetsRecoveryActions(t *testing.T) {
	t.Parallel()
	c := windowsConfig(Options{Executable: `C:\OpenIM\openim-supervisor.exe`, ConfigPath: `C:\ProgramData\OpenIM\config.yaml`})
	if c.Name != "openim-server" || c.DisplayName == "" {
		t.Errorf("name %q display %q", c.Name, c.DisplayName)
	}
	if got := strings.Join(c.Arguments, " "); got != `run --service --config C:\ProgramData\OpenIM\config.yaml` {
		t.Errorf("arguments = %q", got)
	}
	// kardianos sets recovery actions only when OnFailure is non-empty.
	if c.Option["OnFailure"] != "restart" {
		t.Errorf("OnFailure = %v, want restart", c.Option["OnFailure"])
	}
	if d, _ := c.Option["OnFailureDelayDuration"].(string); d == "" {
		t.Errorf("OnFailureDelayDuration = %v", c.Option["OnFailureDelayDuration"])
	}
	if p, _ := c.Option["OnFailureResetPeriod"].(int); p <= 0 {
		t.Errorf("OnFailureResetPeriod = %v", c.Option["OnFailureResetPeriod"])
	}
	if c.Option["StartType"] != "automatic" {
		t.Errorf("StartType = %v", c.Option["StartType"])
	}
}

func TestLaunchdConfig(t *testing.T) {
	t.Parallel()
	c := launchdConfig(Options{Executable: "/usr/local/openim/bin/openim-supervisor", ConfigPath: "/usr/local/etc/openim/config.yaml", LogDir: "/usr/local/var/log/openim"})
	if c.Option["KeepAlive"] != true || c.Option["RunAtLoad"] != true {
		t.Errorf("KeepAlive/RunAtLoad = %v/%v", c.Option["KeepAlive"], c.Option["RunAtLoad"])
	}
	if c.Option["LogDirectory"] != "/usr/local/var/log/openim" {
		t.Errorf("LogDirectory = %v", c.Option["LogDirectory"])
	}
	if got := strings.Join(c.Arguments, " "); got != "run --config /usr/local/etc/openim/config.yaml" {
		t.Errorf("arguments = %q", got)
	}
}
