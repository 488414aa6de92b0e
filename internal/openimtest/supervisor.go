package openimtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// The subset of openim-supervisor's config schema (internal/config) that a
// deployment writes; zero values are left out so the supervisor's own
// defaults apply, as they would for a user.
type supConfig struct {
	Version   int          `yaml:"version"`
	Paths     supPaths     `yaml:"paths"`
	EnvFile   string       `yaml:"envFile,omitempty"`
	PreStart  []supTool    `yaml:"preStart"`
	Processes []supProcess `yaml:"processes"`
	Log       supLog       `yaml:"log"`
}

type supPaths struct {
	BinDir          string `yaml:"binDir"`
	OpenIMConfigDir string `yaml:"openimConfigDir"`
	LogDir          string `yaml:"logDir"`
	RuntimeDir      string `yaml:"runtimeDir"`
	StateDir        string `yaml:"stateDir"`
}

type supTool struct {
	Name    string `yaml:"name"`
	Timeout string `yaml:"timeout,omitempty"`
}

type supProcess struct {
	Name      string    `yaml:"name"`
	Instances int       `yaml:"instances,omitempty"`
	Ports     []int     `yaml:"ports,omitempty,flow"`
	Ready     *supReady `yaml:"ready,omitempty"`
}

type supReady struct {
	TCP string `yaml:"tcp,omitempty"`
}

type supLog struct {
	Target string `yaml:"target"`
}

// supervisorOrder is the start order of internal/config/example.yaml.
func supervisorOrder() []string {
	return []string{
		"openim-api", "openim-rpc-auth", "openim-rpc-user", "openim-rpc-friend", "openim-rpc-group",
		"openim-rpc-conversation", "openim-rpc-third", "openim-rpc-msg", "openim-push",
		"openim-msgtransfer", "openim-msggateway", "openim-crontask",
	}
}

// writeSupervisorConfig writes the supervisor's config.yaml for the
// deployment's services, the pre-start tools as the example config ships
// them, and every path under Dir; then loads it with internal/config so a
// schema mismatch fails here, with the loader's message.
func (d *Deployment) writeSupervisorConfig(o Options) error {
	c := supConfig{
		Version: config.CurrentVersion,
		Paths: supPaths{
			BinDir:          d.Env.BinDir,
			OpenIMConfigDir: d.ConfigDir,
			LogDir:          filepath.Join(d.Dir, "log"),
			RuntimeDir:      filepath.Join(d.Dir, "run"),
			StateDir:        filepath.Join(d.Dir, "state"),
		},
		PreStart: []supTool{{Name: "check-free-memory"}, {Name: "check-component", Timeout: "5m"}, {Name: "seq"}},
		// Files under logDir, also when the tests run under systemd.
		Log: supLog{Target: "file"},
	}
	for _, dir := range []string{c.Paths.LogDir, c.Paths.RuntimeDir, c.Paths.StateDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	if len(o.EnvFile) > 0 {
		c.EnvFile = filepath.Join(d.Dir, "openim.env")
		keys := make([]string, 0, len(o.EnvFile))
		for k := range o.EnvFile {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s\n", k, o.EnvFile[k])
		}
		if err := os.WriteFile(c.EnvFile, []byte(b.String()), 0o600); err != nil {
			return err
		}
	}
	for _, s := range supervisorOrder() {
		if !slices.Contains(d.Services, s) {
			continue
		}
		p := supProcess{Name: s}
		if n := d.Instances[s]; n != 1 {
			p.Instances = n
		}
		switch s {
		case "openim-api":
			p.Ports = d.APIPorts
			p.Ready = &supReady{TCP: "127.0.0.1:{port}"}
		case "openim-msggateway":
			p.Ports = d.GatewayPorts
			p.Ready = &supReady{TCP: "127.0.0.1:{port}"}
		}
		c.Processes = append(c.Processes, p)
	}
	data, err := yaml.Marshal(&c)
	if err != nil {
		return err
	}
	head := "# openim-supervisor config for the test deployment " + d.ID + " (internal/openimtest)\n"
	if err := os.WriteFile(d.SupervisorConfig, append([]byte(head), data...), 0o600); err != nil {
		return err
	}
	if _, err := config.Load(d.SupervisorConfig); err != nil {
		return fmt.Errorf("the supervisor config openimtest wrote does not load: %w", err)
	}
	return nil
}

// BuildSupervisor builds ./cmd/openim-supervisor of this module into a temp
// dir, as the packages do (scripts/packages.sh: static, stripped), and
// returns the binary's path.
func BuildSupervisor(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		t.Fatalf("openimtest: find the module root (go env GOMOD): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "openim-supervisor")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/openim-supervisor")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openimtest: go build ./cmd/openim-supervisor: %v\n%s", err, out)
	}
	return bin
}

// Supervisor is an `openim-supervisor run` started by StartSupervisor.
type Supervisor struct {
	Cmd *exec.Cmd
	// Output is the file that holds the supervisor's own stdout and stderr.
	Output string
	done   chan struct{}
	err    error
}

// StartSupervisor runs `bin --config SupervisorConfig run` in its own process
// group, its output in Dir/supervisor.out. The cleanup stops it (SIGTERM,
// then SIGKILL after 60 s) and then fails the test if any process of the
// deployment (Procs) is left.
func (d *Deployment) StartSupervisor(t testing.TB, bin string) *Supervisor {
	t.Helper()
	out := filepath.Join(d.Dir, "supervisor.out")
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("openimtest: %v", err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "--config", d.SupervisorConfig, "run")
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = supervisorEnv()
	setpgid(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("openimtest: start %s: %v", bin, err)
	}
	s := &Supervisor{Cmd: cmd, Output: out, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("openimtest: stop the supervisor: %v", err)
		}
		// The supervisor has stopped every child before it exits; give
		// the kernel a moment to reap the last ones, then look.
		var left []Proc
		for range 50 {
			if left, err = d.Procs(); err != nil || len(left) == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("openimtest: %v", err)
		}
		for _, p := range left {
			t.Errorf("openimtest: process left after the supervisor stopped: pid %d %s", p.PID, strings.Join(p.Args, " "))
			_ = p.kill()
		}
	})
	return s
}

// supervisorEnv is the test's environment without the systemd variables a
// test runner may have (the supervisor would talk to that systemd).
func supervisorEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Text is what the supervisor has written so far.
func (s *Supervisor) Text() string {
	b, _ := os.ReadFile(s.Output)
	return string(b)
}

// WaitUsable waits until d's OpenIM is usable (Deployment.WaitUsable) and
// fails the test, with the supervisor's output, when that fails or the
// supervisor exits first.
func (s *Supervisor) WaitUsable(ctx context.Context, t testing.TB, d *Deployment) {
	t.Helper()
	usable := make(chan error, 1)
	go func() { usable <- d.WaitUsable(ctx) }()
	select {
	case err := <-usable:
		if err != nil {
			t.Fatalf("%v\nsupervisor output:\n%s", err, s.Text())
		}
	case <-s.done:
		t.Fatalf("the supervisor exited before OpenIM was usable: %v\nsupervisor output:\n%s", s.err, s.Text())
	}
}

// Done is closed when the supervisor process has exited.
func (s *Supervisor) Done() <-chan struct{} { return s.done }

// Err is the supervisor's exit error once Done is closed.
func (s *Supervisor) Err() error {
	<-s.done
	return s.err
}

// Stop sends SIGTERM and waits for the supervisor to exit; when ctx ends
// first it SIGKILLs its process group. Stopping an exited supervisor is a
// no-op.
func (s *Supervisor) Stop(ctx context.Context) error {
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := terminate(s.Cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		killGroup(s.Cmd.Process.Pid)
		<-s.done
		return fmt.Errorf("the supervisor (pid %d) did not exit on SIGTERM: %w", s.Cmd.Process.Pid, ctx.Err())
	}
}
