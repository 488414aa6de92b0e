package supervisor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// helperEnv makes the test binary act as a tiny supervisor: it runs a
// Manager on the JSON config named by the variable, prints the children's
// pids once ready, and waits to be killed.
const helperEnv = "OPENIM_SUPERVISOR_TEST_HELPER"

func helperMain() int {
	b, err := os.ReadFile(os.Getenv(helperEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var cfg config.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg.ApplyDefaults()
	m, err := New(&cfg, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		<-m.Ready()
		m.capture.Flush()
		var pids, gcs []string
		for _, s := range m.Status() {
			pids = append(pids, strconv.Itoa(s.PID))
			for _, l := range m.Logs().Tail(s.ID(), 0) {
				if pid, ok := strings.CutPrefix(l.Text, "grandchild pid "); ok {
					gcs = append(gcs, pid)
				}
			}
		}
		fmt.Println("READY " + strings.Join(pids, " ") + " GRANDCHILDREN " + strings.Join(gcs, " "))
	}()
	if err := m.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
