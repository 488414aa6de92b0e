package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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
	srv, err := Listen(ctx, "127.0.0.1:0", status, nil)
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
		`openim_supervisor_up{instance="0",process="openim-api"} 1`,
		`openim_supervisor_up{instance="3",process="openim-push"} 0`,
		`openim_supervisor_restarts_total{instance="0",process="openim-api"} 2`,
		`openim_supervisor_restarts_total{instance="3",process="openim-push"} 5`,
		`openim_supervisor_last_exit_code{instance="0",process="openim-api"} 137`,
		`openim_supervisor_last_exit_code{instance="3",process="openim-push"} 1`,
		`openim_supervisor_start_time_seconds{instance="0",process="openim-api"} 1.7000000005e+09`,
		`openim_supervisor_failed{instance="3",process="openim-push"} 1`,
		`openim_supervisor_failed{instance="0",process="openim-api"} 0`,
		"# TYPE openim_supervisor_restarts_total counter",
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(text, `openim_supervisor_start_time_seconds{instance="3"`) {
		t.Error("start time reported for an instance that is not running")
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

func TestListenBusyPort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, err := Listen(ctx, "127.0.0.1:0", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.ln.Close()
	if _, err := Listen(ctx, a.Addr().String(), nil, nil); err == nil || !strings.Contains(err.Error(), "metrics listen") {
		t.Fatalf("second Listen on a busy port: err = %v", err)
	}
}
