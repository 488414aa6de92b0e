// Command openim-standin is a STAND-IN for an OpenIM service, used by the
// tests, the demo and the benchmark of openim-supervisor. It is not OpenIM.
//
// Its service name is the base name of argv[0], so one binary copied or
// symlinked as openim-api, openim-push, ... plays each service. Like an
// OpenIM service it takes -i INDEX -c CONFIGDIR, listens on its port for
// that index (from CONFIGDIR/standin.yaml) and exits 0 on SIGTERM/SIGINT.
// Named check-free-memory, check-component or seq it acts as a pre-start
// tool: it prints one line and exits 0 (or 1 when listed in failTools).
//
// standin.yaml (optional):
//
//	services:
//	  openim-api: {ports: [10002]}
//	failTools: [check-component]
//
// It listens on 127.0.0.1 at its standin.yaml port and at the port OpenIM's
// openim-<name>.yml gives the service (rpc.ports; api.ports for openim-api),
// where the supervisor's readiness checks dial: a gRPC connection gets the
// SETTINGS frame a gRPC server sends first; HTTP: GET /healthz answers 200,
// POST /auth/parse_token answers OpenIM's token error (errCode 1501), POST
// /crash writes a line to stderr and exits 1.
//
// Environment knobs (tests): STANDIN_STOP_DELAY=dur (delay before exiting on
// SIGTERM), STANDIN_CRASH_AFTER=dur (exit STANDIN_EXIT_CODE, default 1, after
// dur), STANDIN_EXIT_CODE=n, STANDIN_IGNORE_TERM=1, STANDIN_SPAM=N (write N
// lines fast to stdout), STANDIN_GRANDCHILD=1 (start a grandchild sleeper
// and print its pid), STANDIN_STDERR=text (one line to stderr at start).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

type standinConfig struct {
	Services map[string]struct {
		Ports []int `yaml:"ports"`
	} `yaml:"services"`
	FailTools []string `yaml:"failTools"`
}

var tools = []string{"check-free-memory", "check-component", "seq"}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	name := strings.TrimSuffix(filepath.Base(args[0]), ".exe")
	if len(args) > 1 && args[1] == "__sleep" { // the grandchild of STANDIN_GRANDCHILD
		time.Sleep(time.Hour)
		return 0
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s -i INDEX -c CONFIGDIR\n\n"+
			"openim-standin: a STAND-IN for an OpenIM service (tests, demo, benchmark of\n"+
			"openim-supervisor); it is not OpenIM. The service name is the program's file name.\n", name)
		fs.PrintDefaults()
	}
	index := fs.Int("i", 0, "instance index (selects the port)")
	confDir := fs.String("c", "", "OpenIM config directory (reads standin.yaml there)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := loadConfig(*confDir)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	if slices.Contains(tools, name) {
		if slices.Contains(cfg.FailTools, name) {
			fmt.Fprintf(stderr, "%s (stand-in): failing as configured by failTools\n", name)
			return 1
		}
		fmt.Fprintf(stdout, "%s (stand-in): ok\n", name)
		return 0
	}
	return serve(name, *index, *confDir, cfg, stdout, stderr)
}

func loadConfig(dir string) (standinConfig, error) {
	var cfg standinConfig
	if dir == "" {
		return cfg, nil
	}
	path := filepath.Join(dir, "standin.yaml")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("parse %s: %w", path, err)
	}
	return cfg, nil
}

func envDuration(k string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(k))
	return d
}

// newMux is the stand-in's HTTP API: /healthz, POST /crash (the instance
// exits 1 through crash), and POST /auth/parse_token.
func newMux(crash chan<- string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("POST /crash", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "crashing\n")
		select {
		case crash <- "crash requested over HTTP":
		default:
		}
	})
	// What openim-api answers for a token it cannot parse once its RPC
	// layer works (the supervisor's openimAPI readiness check).
	mux.HandleFunc("POST /auth/parse_token", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errCode":1501,"errMsg":"TokenMalformedError","errDlt":"stand-in"}`)
	})
	return mux
}

func serve(name string, index int, confDir string, cfg standinConfig, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	crash := make(chan string, 1)

	ps, err := ports(name, index, confDir, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	mux := newMux(crash)
	port := 0
	for _, p := range ps {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)))
		if err != nil && p.optional {
			fmt.Fprintf(stderr, "%s: not listening on OpenIM's port %d: %v\n", name, p.port, err)
			continue
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: listen: %v\n", name, err)
			return 1
		}
		if port == 0 {
			port = p.port
		}
		go serveSniffing(ln, mux)
	}
	fmt.Fprintf(stdout, "%s (stand-in) index %d started, pid %d, port %d\n", name, index, os.Getpid(), port)
	if s := os.Getenv("STANDIN_STDERR"); s != "" {
		fmt.Fprintln(stderr, s)
	}
	if os.Getenv("STANDIN_GRANDCHILD") == "1" {
		self, _ := os.Executable()
		gc := exec.Command(self, "__sleep")
		if err := gc.Start(); err != nil {
			fmt.Fprintf(stderr, "%s: grandchild: %v\n", name, err)
			return 1
		}
		fmt.Fprintf(stdout, "grandchild pid %d\n", gc.Process.Pid)
	}
	if n, _ := strconv.Atoi(os.Getenv("STANDIN_SPAM")); n > 0 {
		line := []byte(strings.Repeat("s", 100) + "\n")
		for i := 0; i < n; i++ {
			stdout.Write(line)
		}
		fmt.Fprintf(stdout, "spam done: %d lines\n", n)
	}
	var crashTimer <-chan time.Time
	if d := envDuration("STANDIN_CRASH_AFTER"); d > 0 {
		crashTimer = time.After(d)
	}
	ignoreTerm := os.Getenv("STANDIN_IGNORE_TERM") == "1"
	for {
		select {
		case s := <-sigs:
			if ignoreTerm {
				fmt.Fprintf(stdout, "%s: ignoring %v\n", name, s)
				continue
			}
			time.Sleep(envDuration("STANDIN_STOP_DELAY"))
			fmt.Fprintf(stdout, "%s: stopping on %v\n", name, s)
			return 0
		case <-crashTimer:
			code := 1
			if c, err := strconv.Atoi(os.Getenv("STANDIN_EXIT_CODE")); err == nil {
				code = c
			}
			fmt.Fprintf(stderr, "%s: crashing with exit code %d (STANDIN_CRASH_AFTER)\n", name, code)
			return code
		case why := <-crash:
			time.Sleep(10 * time.Millisecond) // let the HTTP answer go out
			fmt.Fprintf(stderr, "%s: %s, exiting 1\n", name, why)
			return 1
		}
	}
}
