// Package metrics serves the optional Prometheus endpoint: per-instance
// up, state, restarts, last exit code, start time and failed state, read
// from the supervisor's status at scrape time (nothing polls in between),
// and openim_supervisor_build_info.
//
// Labels follow Prometheus's conventions: an instance is named by
// process="openim-push" and index="3". The label "instance" is left to
// Prometheus, which sets it to the scraped target (host:port); exporting
// our own would be renamed to exported_instance.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// DefaultPort is the one port the docs and the example config suggest for
// metrics.listen (127.0.0.1:9464). 9100-9999 is allocated to exporters
// (9100 is node_exporter's); 9464 is the OpenTelemetry Prometheus
// exporter's default, which an OpenIM host does not otherwise run.
const DefaultPort = 9464

// StatusFunc returns the current instance snapshot (supervisor.Manager.Status).
type StatusFunc func() []supervisor.InstanceStatus

// Collector turns a status snapshot into metrics at scrape time.
type Collector struct {
	status   StatusFunc
	up       *prometheus.Desc
	state    *prometheus.Desc
	restarts *prometheus.Desc
	exitCode *prometheus.Desc
	start    *prometheus.Desc
	failed   *prometheus.Desc
}

// NewCollector returns a collector reading status at every scrape.
func NewCollector(status StatusFunc) *Collector {
	labels := []string{"process", "index"}
	return &Collector{
		status: status,
		up: prometheus.NewDesc("openim_supervisor_up",
			"1 when the instance is running (started and ready), else 0.", labels, nil),
		state: prometheus.NewDesc("openim_supervisor_state",
			"1 for the instance's current state (pending, starting, running, backoff, stopping, stopped, exited, failed).",
			append(labels, "state"), nil),
		restarts: prometheus.NewDesc("openim_supervisor_restarts_total",
			"Restarts of the instance since the supervisor started.", labels, nil),
		exitCode: prometheus.NewDesc("openim_supervisor_last_exit_code",
			"Exit code of the instance's last run (128+signal when killed by a signal); absent before the first exit.", labels, nil),
		start: prometheus.NewDesc("openim_supervisor_start_time_seconds",
			"Unix time the current run of the instance started; absent when not running.", labels, nil),
		failed: prometheus.NewDesc("openim_supervisor_failed",
			"1 when the instance is marked failed (too many crashes; retried after the cool-down).", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.state, c.restarts, c.exitCode, c.start, c.failed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.status() {
		lv := []string{s.Name, strconv.Itoa(s.Index)}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, b2f(s.State == supervisor.StateRunning), lv...)
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, 1, append(lv, string(s.State))...)
		ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(s.Restarts), lv...)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, b2f(s.State == supervisor.StateFailed), lv...)
		if s.LastExit != nil {
			ch <- prometheus.MustNewConstMetric(c.exitCode, prometheus.GaugeValue, float64(s.LastExit.Code), lv...)
		}
		if s.PID > 0 && !s.StartedAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.start, prometheus.GaugeValue,
				float64(s.StartedAt.UnixNano())/1e9, lv...)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Handler returns the /metrics handler: the supervisor's metrics, its
// build_info, plus the Go runtime and process collectors of the supervisor itself.
func Handler(status StatusFunc, build buildinfo.Info) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(status),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "openim_supervisor_build_info",
			Help: "1, labelled with the versions of openim-supervisor, the OpenIM it ships and Go.",
			ConstLabels: prometheus.Labels{"version": build.Version, "openim_version": build.OpenIMVersion,
				"goversion": runtime.Version()},
		}, func() float64 { return 1 }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Server is a running metrics endpoint.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr ("host:port"; config validation keeps it on loopback
// unless allowed otherwise). Serve it with Serve.
func Listen(ctx context.Context, addr string, status StatusFunc, build buildinfo.Info, logger *slog.Logger) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(status, build))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "openim-supervisor: metrics at /metrics")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if logger != nil {
		srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	}
	return &Server{ln: ln, srv: srv}, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers scrapes until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(sctx)
	})
	defer stop()
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics serve: %w", err)
	}
	return nil
}
