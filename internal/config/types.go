// Package config holds the typed schema of openim-supervisor's config file
// (/etc/openim/config.yaml), its strict loader, defaults and validation.
//
// The file is decoded once into these types; nothing else in the program reads
// YAML or environment strings. See example.yaml for the commented default.
package config

import (
	"time"
)

// CurrentVersion is the schema version this binary reads and writes
// (schemaVersion: schema_version.go; the package tests' build bumps it).
const CurrentVersion = schemaVersion

// Config is a fully loaded, defaulted and validated configuration.
type Config struct {
	// Version of the schema; must equal CurrentVersion after Load.
	Version int `yaml:"version"`

	Paths Paths `yaml:"paths"`

	// EnvFile is a KEY=VALUE file (IMENV_* overrides, passwords) whose
	// variables are given to every child and used for ${VAR} expansion.
	EnvFile string `yaml:"envFile"`

	// Defaults apply to every process unless the process sets its own value.
	Defaults ProcessDefaults `yaml:"defaults"`

	// PreStart tools run in order, each to completion, before any process starts.
	// A non-zero exit aborts the start and its output is shown.
	PreStart []Tool `yaml:"preStart"`

	// Processes in start order (stop order is the reverse).
	Processes []Process `yaml:"processes"`

	Log     LogConfig     `yaml:"log"`
	Metrics MetricsConfig `yaml:"metrics"`
	Control ControlConfig `yaml:"control"`

	// Source is the file the config was loaded from (not part of the YAML).
	Source string `yaml:"-"`
	// Env holds the variables read from EnvFile (not part of the YAML).
	// Values are secrets: never log them.
	Env map[string]string `yaml:"-"`
}

// Paths are every filesystem location the supervisor uses. All are settable so
// the whole supervisor can run unprivileged inside a temporary directory.
type Paths struct {
	BinDir          string `yaml:"binDir"`          // OpenIM binaries
	OpenIMConfigDir string `yaml:"openimConfigDir"` // passed to services as -c
	LogDir          string `yaml:"logDir"`
	RuntimeDir      string `yaml:"runtimeDir"`
	Socket          string `yaml:"socket"` // default <runtimeDir>/supervisor.sock
	StateDir        string `yaml:"stateDir"`
}

// RestartPolicy says when an exited instance is started again.
type RestartPolicy string

const (
	RestartAlways    RestartPolicy = "always"
	RestartOnFailure RestartPolicy = "on-failure"
	RestartNever     RestartPolicy = "never"
)

// ProcessDefaults are the per-process settings that can be given once for all.
type ProcessDefaults struct {
	Restart     RestartPolicy `yaml:"restart"`
	StopSignal  Signal        `yaml:"stopSignal"`
	StopTimeout Duration      `yaml:"stopTimeout"`
	Ready       Ready         `yaml:"ready"`
	Backoff     Backoff       `yaml:"backoff"`
	// Env is given to every process and pre-start tool; the env file's
	// variables and a process's own env override it.
	Env map[string]string `yaml:"env"`
}

// Ready says when a started instance counts as ready. Every check that is
// set must pass; {port} and {index} are replaced per instance.
type Ready struct {
	// After: the instance must stay up this long (before the checks run).
	After Duration `yaml:"after"`
	// TCP: "host:port" that must accept a connection.
	TCP string `yaml:"tcp"`
	// HTTP: URL that must answer 2xx/3xx.
	HTTP string `yaml:"http"`
	// GRPC: "host:port" of a gRPC server that must answer the HTTP/2
	// handshake. An OpenIM RPC service serves gRPC only after it registered
	// in discovery (etcd), so this means "registered and serving".
	GRPC string `yaml:"grpc"`
	// OpenIMAPI: base URL of openim-api (http://127.0.0.1:{port}) that must
	// answer a request which crosses to openim-rpc-auth and back.
	OpenIMAPI string `yaml:"openimAPI"`
	// Timeout for the checks to pass; then the start counts as failed.
	Timeout Duration `yaml:"timeout"`
}

// HasCheck reports whether a check besides After is set.
func (r Ready) HasCheck() bool {
	return r.TCP != "" || r.HTTP != "" || r.GRPC != "" || r.OpenIMAPI != ""
}

// Backoff is the restart policy's timing.
type Backoff struct {
	Initial Duration `yaml:"initial"` // first delay after a quick crash
	Max     Duration `yaml:"max"`     // cap of the exponential delay
	// StableAfter: a run at least this long resets the backoff; the next
	// restart is immediate.
	StableAfter Duration `yaml:"stableAfter"`
	// MaxFailures within Window mark the instance failed; it is retried
	// after Cooldown.
	MaxFailures int      `yaml:"maxFailures"`
	Window      Duration `yaml:"window"`
	Cooldown    Duration `yaml:"cooldown"`
}

// Process is one named program with one or more instances.
//
// Without Command it is an OpenIM service, launched as
// <binDir>/<name> -i <index> -c <openimConfigDir>. With Command it is an
// extra program: Command and Args, where "{index}" and "{port}" in Args are
// replaced per instance.
type Process struct {
	Name      string            `yaml:"name"`
	Instances int               `yaml:"instances"`
	Command   string            `yaml:"command"`
	Args      []string          `yaml:"args"`
	Env       map[string]string `yaml:"env"`
	WorkDir   string            `yaml:"workDir"`
	// Ports lists one port per instance (element i for instance i), used for
	// {port} in Ready checks and Args.
	Ports []int `yaml:"ports"`
	// Barrier: the processes listed after this one start only once this one
	// and every process before it are ready. Without barriers every process
	// starts at once (each still waits for nothing but its own start).
	Barrier bool `yaml:"barrier"`

	// Optional overrides of Defaults; left out means "use the default". Load
	// fills them in (ApplyDefaults for a config built in code), so after it
	// Ready and Backoff are never nil.
	Restart     RestartPolicy `yaml:"restart"`
	StopSignal  Signal        `yaml:"stopSignal"`
	StopTimeout Duration      `yaml:"stopTimeout"`
	Ready       *Ready        `yaml:"ready"`
	Backoff     *Backoff      `yaml:"backoff"`
}

// Tool is a pre-start program run to completion before services start.
// Without Command it is <binDir>/<name> -c <openimConfigDir>.
type Tool struct {
	Name    string   `yaml:"name"`
	Command string   `yaml:"command"`
	Args    []string `yaml:"args"`
	Timeout Duration `yaml:"timeout"`
}

// LogTarget selects where child output goes.
type LogTarget string

const (
	LogAuto    LogTarget = "auto"    // journal under systemd, files otherwise
	LogJournal LogTarget = "journal" // systemd journal
	LogFile    LogTarget = "file"    // <logDir>/<name>.<index>.log with rotation
)

// LogConfig configures capture of child output.
type LogConfig struct {
	Target   LogTarget `yaml:"target"`
	MaxSize  ByteSize  `yaml:"maxSize"`  // rotate a file at this size
	MaxFiles int       `yaml:"maxFiles"` // rotated files kept per instance
	// Buffer is the number of lines kept in memory per instance for `logs`.
	Buffer int `yaml:"buffer"`
}

// MetricsConfig configures the optional Prometheus endpoint.
type MetricsConfig struct {
	// Listen is "host:port"; empty means off. Non-loopback hosts are refused
	// unless AllowRemote.
	Listen      string `yaml:"listen"`
	AllowRemote bool   `yaml:"allowRemote"`
}

// ControlConfig configures the local control socket.
type ControlConfig struct {
	// Group that may use the socket (mode 0660). Empty: the supervisor's group.
	Group string `yaml:"group"`
}

// Duration is a time.Duration written as "10s", "1m30s" in YAML.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Signal is a stop signal by name: TERM, INT, QUIT, HUP, KILL, USR1, USR2.
type Signal string

// ByteSize is a size written as "10MiB", "512KiB", "1GiB" or a plain number of bytes.
type ByteSize int64
