package cli

import (
	"log/slog"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// checkOpenIMConfig is run's gate on OpenIM's own config dir: a dir written
// for another OpenIM version is refused (exit 12, with the command that
// migrates it), errors are refused (exit 3), warnings are logged. It
// returns the components the config points OpenIM at, for pre-start.
func (r *runner) checkOpenIMConfig(cfg *config.Config) ([]supervisor.Component, error) {
	sc, err := openimCheck(cfg, r.g.info.OpenIMVersion, logLines{r.log})
	if err != nil || sc.Loaded == nil {
		return nil, err
	}
	var cs []supervisor.Component
	for _, c := range sc.Loaded.Components() {
		cs = append(cs, supervisor.Component{Name: c.Name, Addr: c.Addr})
	}
	return cs, nil
}

// logLines writes each line it gets as a warning to a slog.Logger.
type logLines struct{ log *slog.Logger }

func (l logLines) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			l.log.Warn("OpenIM config: " + line)
		}
	}
	return len(p), nil
}
