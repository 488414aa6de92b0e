package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
// the config's paths.socket, else the OS default. The config is loaded
// without file checks, only for its paths; when it cannot be read (e.g. a
// user not allowed to read /etc/openim/config.yaml) the default is used.
func (f *ctlFlags) socketPath(g *globals) string {
	if f.socket != "" {
		return f.socket
	}
	if s := os.Getenv(EnvSocket); s != "" {
		return s
	}
	path := g.ConfigPath()
	if cfg, err := config.LoadWith(path, config.Options{SkipFileChecks: true}); err == nil && cfg.Paths.Socket != "" {
		return cfg.Paths.Socket
	}
	// An invalid config (e.g. edited, not yet reloaded) must not hide the
	// socket of the running supervisor: read just the paths.
	if data, err := os.ReadFile(path); err == nil {
		var doc struct {
			Paths struct {
				RuntimeDir string `yaml:"runtimeDir"`
				Socket     string `yaml:"socket"`
			} `yaml:"paths"`
		}
		if yaml.Unmarshal(data, &doc) == nil {
			abs := func(p string) string {
				if p == "" || filepath.IsAbs(p) {
					return p
				}
				if a, err := filepath.Abs(path); err == nil {
					return filepath.Join(filepath.Dir(a), p)
				}
				return p
			}
			if doc.Paths.Socket != "" {
				return abs(doc.Paths.Socket)
			}
			if doc.Paths.RuntimeDir != "" {
				return paths.SocketIn(abs(doc.Paths.RuntimeDir))
			}
		}
	}
	return paths.SocketIn(paths.OS().RuntimeDir)
}

// client returns a client for the supervisor and a context bounded by --timeout.
func (f *ctlFlags) client(cmd *cobra.Command, g *globals) (*control.Client, context.Context, context.CancelFunc) {
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
	return control.NewClient(f.socketPath(g)), ctx, cancel
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
		}
	}
	return withCode(ExitError, err)
}
