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
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

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

// family is one metric family: its name, help text and type, and the
// value of an instance's series (extra labels; ok false: no series).
type family struct {
	name, help, typ string
	value           func(s supervisor.InstanceStatus) (extra string, v float64, ok bool)
}

// always is a family's value for every instance, without extra labels.
func always(v func(s supervisor.InstanceStatus) float64) func(supervisor.InstanceStatus) (string, float64, bool) {
	return func(s supervisor.InstanceStatus) (string, float64, bool) { return "", v(s), true }
}

// WriteMetrics writes the Prometheus text exposition of snap: each family
// with its HELP and TYPE, one series per instance labelled process and
// index (sorted label names, as Prometheus's own client writes them), then
// openim_supervisor_build_info.
func WriteMetrics(w io.Writer, snap []supervisor.InstanceStatus, build buildinfo.Info) error {
	families := []family{
		{"openim_supervisor_up", "1 when the instance is running (started and ready), else 0.", "gauge",
			always(func(s supervisor.InstanceStatus) float64 { return b2f(s.State == supervisor.StateRunning) })},
		{"openim_supervisor_state", "1 for the instance's current state (pending, starting, running, backoff, stopping, stopped, exited, failed).", "gauge",
			func(s supervisor.InstanceStatus) (string, float64, bool) {
				return `,state="` + labelValue(string(s.State)) + `"`, 1, true
			}},
		{"openim_supervisor_restarts_total", "Restarts of the instance since the supervisor started.", "counter",
			always(func(s supervisor.InstanceStatus) float64 { return float64(s.Restarts) })},
		{"openim_supervisor_failed", "1 when the instance is marked failed (too many crashes; retried after the cool-down).", "gauge",
			always(func(s supervisor.InstanceStatus) float64 { return b2f(s.State == supervisor.StateFailed) })},
		{"openim_supervisor_last_exit_code", "Exit code of the instance's last run (128+signal when killed by a signal); absent before the first exit.", "gauge",
			func(s supervisor.InstanceStatus) (string, float64, bool) {
				if s.LastExit == nil {
					return "", 0, false
				}
				return "", float64(s.LastExit.Code), true
			}},
		{"openim_supervisor_start_time_seconds", "Unix time the current run of the instance started; absent when not running.", "gauge",
			func(s supervisor.InstanceStatus) (string, float64, bool) {
				return "", float64(s.StartedAt.UnixNano()) / 1e9, s.PID > 0 && !s.StartedAt.IsZero()
			}},
	}
	bw := bufio.NewWriter(w)
	labels := make([]string, len(snap))
	for i, s := range snap {
		labels[i] = `index="` + strconv.Itoa(s.Index) + `",process="` + labelValue(s.Name) + `"`
	}
	for _, f := range families {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.typ)
		for i, s := range snap {
			if extra, v, ok := f.value(s); ok {
				fmt.Fprintf(bw, "%s{%s%s} %s\n", f.name, labels[i], extra, strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
	}
	fmt.Fprintf(bw, "# HELP openim_supervisor_build_info 1, labelled with the versions of openim-supervisor, the OpenIM it ships and Go.\n"+
		"# TYPE openim_supervisor_build_info gauge\n"+
		"openim_supervisor_build_info{goversion=\"%s\",openim_version=\"%s\",version=\"%s\"} 1\n",
		labelValue(runtime.Version()), labelValue(build.OpenIMVersion), labelValue(build.Version))
	return bw.Flush()
}

// labelValue escapes a label value for the text format: backslash, double
// quote and line feed.
func labelValue(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Handler returns the /metrics handler: the supervisor's metrics, read
// from status at each scrape, its build_info, then the Go runtime and
// process metrics of the supervisor itself (VictoriaMetrics/metrics, which
// reads runtime/metrics and /proc/self at the scrape; Prometheus's own
// client, used before, registered its collectors and protobuf descriptors
// at package init, which every start of the binary paid: see
// docs/design.md).
func Handler(status StatusFunc, build buildinfo.Info) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		var buf bytes.Buffer
		if err := WriteMetrics(&buf, status(), build); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		vm.WriteProcessMetrics(&buf)
		_, _ = w.Write(buf.Bytes())
	})
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
