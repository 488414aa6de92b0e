package cli

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/openimkafka"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// openimSide is what run takes from OpenIM's own config dir.
type openimSide struct {
	components []supervisor.Component // for pre-start (check-component)
	// beforeStart prepares OpenIM's Kafka consumer groups (nil: no OpenIM
	// config dir, or its Kafka settings are unusable, which is logged).
	beforeStart func(ctx context.Context)
}

// checkOpenIMConfig is run's gate on OpenIM's own config dir: a dir written
// for another OpenIM version is refused (exit 12, with the command that
// migrates it), errors are refused (exit 3), warnings are logged. It
// returns the components the config points OpenIM at, for pre-start, and
// the Kafka step that runs after pre-start.
func (r *runner) checkOpenIMConfig(cfg *config.Config) (openimSide, error) {
	var side openimSide
	sc, err := openimCheck(cfg, r.g.info.OpenIMVersion, logLines{r.log})
	if err != nil || sc.Loaded == nil {
		return side, err
	}
	for _, c := range sc.Loaded.Components() {
		side.components = append(side.components, supervisor.Component{Name: c.Name, Addr: c.Addr})
	}
	if typed, err := sc.Loaded.Typed(); err == nil {
		k, err := openimkafka.FromOpenIM(typed.Kafka)
		if err != nil {
			r.log.Warn("Kafka consumer groups will not be prepared", "err", err)
		} else {
			side.beforeStart = func(ctx context.Context) { pinKafka(ctx, r.log, k) }
		}
	}
	return side, nil
}

// kafkaPinTimeout bounds the Kafka step.
const kafkaPinTimeout = 15 * time.Second

// pinKafka gives each partition of OpenIM's consumer groups that has no
// committed offset one at its end, before any OpenIM process starts (see
// openimkafka): messages accepted by openim-api from then on are consumed,
// also on a first start. It never stops the start; it logs what it did.
func pinKafka(ctx context.Context, log *slog.Logger, k openimkafka.Config) {
	if len(k.Brokers) == 0 || len(k.Consumers) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, kafkaPinTimeout)
	defer cancel()
	start := time.Now()
	res, err := openimkafka.PinNewest(ctx, k)
	elapsed := time.Since(start).Round(time.Millisecond)
	if res.Unreachable {
		log.Info("Kafka: no broker reachable; OpenIM's consumer groups not prepared", "brokers", strings.Join(k.Brokers, ","))
		return
	}
	if err != nil {
		log.Warn("Kafka: preparing OpenIM's consumer groups failed; a partition without a committed offset skips what is sent before its consumer joins", "err", err, "elapsed", elapsed)
	}
	if len(res.Pinned) > 0 || err == nil {
		log.Info("Kafka: "+res.Summary(), "elapsed", elapsed)
	}
	if len(res.MissingTopics) > 0 {
		log.Warn("Kafka: topics missing; OpenIM's consumers will skip what is sent to them before they join: create them before the first start",
			"topics", strings.Join(res.MissingTopics, ","))
	}
	if len(res.BusyGroups) > 0 {
		log.Info("Kafka: groups with members left as they are", "groups", strings.Join(res.BusyGroups, ","))
	}
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
