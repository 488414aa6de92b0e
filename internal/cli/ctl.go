package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/paths"
)

// EnvSocket overrides the control socket path for the control commands.
const EnvSocket = "OPENIM_SUPERVISOR_SOCKET"

// ctlFlags are the flags every control command (status, start, stop,
// restart, logs, reload) shares.
type ctlFlags struct {
	socket  string
	timeout time.Duration
}

func (f *ctlFlags) add(cmd *cobra.Command, timeout time.Duration) {
	cmd.Flags().StringVar(&f.socket, "socket", "",
		"control socket (default $"+EnvSocket+", else paths.socket from the config)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", timeout, "give up after this long")
}

// socketPath finds the control socket: --socket, $OPENIM_SUPERVISOR_SOCKET,
// else the config's paths.socket. It never falls back to the OS default in
// silence: that could be another supervisor's socket.
//
// The config is loaded without file checks, only for its paths. A config
// that does not load (e.g. edited, not yet reloaded) must not hide the
// running supervisor, so its paths are still read when the YAML parses,
// with a warning naming the config error; when not even that works, the
// command fails with the config error and the --socket hint (exit 3).
func (f *ctlFlags) socketPath(g *globals) (string, error) {
	if f.socket != "" {
		return f.socket, nil
	}
	if s := os.Getenv(EnvSocket); s != "" {
		return s, nil
	}
	path := g.ConfigPath()
	cfg, err := config.LoadWith(path, config.Options{SkipFileChecks: true})
	if err == nil {
		return cfg.Paths.Socket, nil
	}
	sock, ok := socketFromPaths(path)
	if !ok {
		return "", withCode(ExitConfig, fmt.Errorf("cannot tell where the supervisor's control socket is: %s\n"+
			"(fix the config, or pass --socket PATH or $%s)", firstLines(err, 3), EnvSocket))
	}
	fmt.Fprintf(g.stderr, "warning: %s does not load (%v); using its paths for the control socket %s\n",
		path, firstLines(err, 1), sock)
	return sock, nil
}

// socketFromPaths reads only paths.socket and paths.runtimeDir of a config
// that does not load as a whole. ok is false when the file cannot be read or
// is not YAML with a mapping at the top.
func socketFromPaths(path string) (string, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	var doc struct {
		Paths struct {
			RuntimeDir string `yaml:"runtimeDir"`
			Socket     string `yaml:"socket"`
		} `yaml:"paths"`
	}
	if yaml.Unmarshal(data, &doc) != nil {
		return "", false
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		if a, err := filepath.Abs(path); err == nil {
			return filepath.Join(filepath.Dir(a), p)
		}
		return p
	}
	switch {
	case doc.Paths.Socket != "":
		return abs(doc.Paths.Socket), true
	case doc.Paths.RuntimeDir != "":
		return paths.SocketIn(abs(doc.Paths.RuntimeDir)), true
	default: // the file leaves the runtime dir at its default
		return paths.SocketIn(config.Default().Paths.RuntimeDir), true
	}
}

// firstLines returns err's first n lines, and how many more there are.
func firstLines(err error, n int) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf(" (and %d more; see `openim-supervisor config check`)", len(lines)-n)
}

// client returns a client for the supervisor and a context bounded by --timeout.
func (f *ctlFlags) client(cmd *cobra.Command, g *globals) (*control.Client, context.Context, context.CancelFunc, error) {
	sock, err := f.socketPath(g)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	var cancel context.CancelFunc
	if f.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	return control.NewClient(sock), ctx, cancel, nil
}

// ctlError turns a client error into the one line the user sees and the
// exit code scripts rely on.
func ctlError(c *control.Client, err error) error {
	if err == nil {
		return nil
	}
	var re *control.RemoteError
	switch {
	case errors.Is(err, control.ErrNotRunning):
		return withCode(ExitNotRunning, fmt.Errorf("openim-supervisor is not running (no control socket at %s); start it with: %s",
			c.Path, startHint))
	case errors.Is(err, control.ErrPermission):
		return withCode(ExitError, fmt.Errorf("permission denied on the control socket %s: %s", c.Path, permHint))
	case errors.Is(err, context.DeadlineExceeded):
		return withCode(ExitError, fmt.Errorf("no answer from the supervisor at %s in time (--timeout): %w", c.Path, err))
	case errors.As(err, &re):
		switch re.Code {
		case control.CodeNotFound:
			return withCode(ExitNotFound, err)
		case control.CodeInvalidConfig:
			return withCode(ExitConfig, err)
		case control.CodeBadRequest:
			return withCode(ExitUsage, err)
		case control.CodeUnsupported:
			return withCode(ExitUnsupported, err)
		}
	}
	return withCode(ExitError, err)
}
