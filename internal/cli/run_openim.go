package cli

import (
	"log/slog"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// checkOpenIMConfig is run's gate on OpenIM's own config dir: a dir written
// for another OpenIM version is refused (exit 12, with the command that
// migrates it), errors are refused (exit 3), warnings are logged.
func (r *runner) checkOpenIMConfig(cfg *config.Config) error {
	_, err := openimCheck(cfg, r.g.info.OpenIMVersion, logLines{r.log})
	return err
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
