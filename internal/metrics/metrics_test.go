package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

func TestScrape(t *testing.T) {
	t.Parallel()
	started := time.Unix(1700000000, 500_000_000)
	var mu sync.Mutex
	calls := 0
	status := func() []supervisor.InstanceStatus {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return []supervisor.InstanceStatus{
			{Name: "openim-api", Index: 0, PID: 10, State: supervisor.StateRunning, StartedAt: started, Restarts: 2,
				LastExit: &supervisor.Exit{Code: 137, Signal: "KILL"}},
			{Name: "openim-push", Index: 3, State: supervisor.StateFailed, Restarts: 5,
				LastExit: &supervisor.Exit{Code: 1}},
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Listen(ctx, "127.0.0.1:0", status, buildinfo.Info{Version: "1.2.3", OpenIMVersion: "3.8.3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	if calls != 0 {
		t.Errorf("status read %d times before any scrape (polling?)", calls)
	}
	mu.Unlock()

	resp, err := http.Get("http://" + srv.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	text := string(body)
	for _, want := range []string{
		`openim_supervisor_up{index="0",process="openim-api"} 1`,
		`openim_supervisor_up{index="3",process="openim-push"} 0`,
		`openim_supervisor_restarts_total{index="0",process="openim-api"} 2`,
		`openim_supervisor_restarts_total{index="3",process="openim-push"} 5`,
		`openim_supervisor_last_exit_code{index="0",process="openim-api"} 137`,
		`openim_supervisor_last_exit_code{index="3",process="openim-push"} 1`,
		`openim_supervisor_start_time_seconds{index="0",process="openim-api"} 1.7000000005e+09`,
		`openim_supervisor_failed{index="3",process="openim-push"} 1`,
		`openim_supervisor_failed{index="0",process="openim-api"} 0`,
		"# TYPE openim_supervisor_restarts_total counter",
		`openim_supervisor_state{index="3",process="openim-push",state="failed"} 1`,
		`openim_supervisor_state{index="0",process="openim-api",state="running"} 1`,
		`openim_supervisor_build_info{goversion="` + runtime.Version() + `",openim_version="3.8.3",version="1.2.3"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	// The whole scrape, ours and the runtime's, must parse as Prometheus
	// parses it.
	parsed, err := parseText(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, text)
	}
	if f := parsed["openim_supervisor_restarts_total"]; f == nil || f.GetType() != dto.MetricType_COUNTER || len(f.GetMetric()) != 2 {
		t.Errorf("restarts_total parsed as %v", f)
	}
	for _, want := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_memstats_heap_inuse_bytes"} {
		if parsed[want] == nil {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(text, `openim_supervisor_start_time_seconds{index="3"`) {
		t.Error("start time reported for an instance that is not running")
	}
	// Issue 9, item 8: "instance" is Prometheus's target label; ours would
	// become exported_instance.
	if strings.Contains(text, `instance="`) {
		t.Errorf("a metric carries an instance label:\n%s", text)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
}

// parseText parses a scrape with Prometheus's own text parser (legacy
// metric names, as the text format 0.0.4 has them).
func parseText(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	return p.TextToMetricFamilies(r)
}

func TestLabelValuesEscaped(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	odd := "a\\b\"c\nd"
	if err := WriteMetrics(&b, []supervisor.InstanceStatus{{Name: odd, State: supervisor.StateRunning}}, buildinfo.Info{Version: odd}); err != nil {
		t.Fatal(err)
	}
	parsed, err := parseText(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("does not parse: %v\n%s", err, b.String())
	}
	for _, name := range []string{"openim_supervisor_up", "openim_supervisor_build_info"} {
		m := parsed[name].GetMetric()
		if len(m) != 1 {
			t.Fatalf("%s: %d series", name, len(m))
		}
		found := false
		for _, l := range m[0].GetLabel() {
			found = found || l.GetValue() == odd
		}
		if !found {
			t.Errorf("%s: no label reads back as %q: %v", name, odd, m[0].GetLabel())
		}
	}
}

func TestListenBusyPort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, err := Listen(ctx, "127.0.0.1:0", nil, buildinfo.Info{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.ln.Close()
	if _, err := Listen(ctx, a.Addr().String(), nil, buildinfo.Info{}, nil); err == nil || !strings.Contains(err.Error(), "metrics listen") {
		t.Fatalf("second Listen on a busy port: err = %v", err)
	}
}

// Issue 9, item 8: one documented port, the same in the example config and the README.
func TestOneDocumentedPort(t *testing.T) {
	t.Parallel()
	want := fmt.Sprintf("127.0.0.1:%d", DefaultPort)
	for _, f := range []string{"../config/example.yaml", "../../README.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not mention %s", f, want)
		}
		if strings.Contains(string(b), ":9100") {
			t.Errorf("%s suggests port 9100 (node_exporter's)", f)
		}
	}
}
