package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/doctor"
)

func newBundleCmd(g *globals) *cobra.Command {
	var f ctlFlags
	var out string
	var lines int
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Write a support archive with secrets masked (versions, configs, status, logs, doctor)",
		Long: `Write a .tar.gz to attach to an issue: versions (this binary, Go, the OS, the
OpenIM binaries), the supervisor config, the env file's variable names (never
their values), OpenIM's yml files with every password, secret, key and token
masked, the running supervisor's status and the last lines of every
instance's output, and doctor's findings. Every value of the env file is
also masked wherever it appears. The archive is mode 0600; look at it before
you share it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if out == "" {
				out = "openim-support-" + time.Now().UTC().Format("20060102-150405") + ".tar.gz"
			}
			files := collectBundle(ctx, g, &f, lines)
			if err := writeTarGz(out, files); err != nil {
				return fmt.Errorf("bundle: %w", err)
			}
			fmt.Fprintf(g.stdout, "wrote %s (%d files, secrets masked; look through it before sharing)\n", out, len(files))
			return nil
		},
	}
	f.add(cmd, 5*time.Second)
	cmd.Flags().StringVarP(&out, "output", "o", "", "archive to write (default openim-support-<UTC time>.tar.gz)")
	cmd.Flags().IntVarP(&lines, "lines", "n", 200, "recent output lines per instance")
	return cmd
}

type bundleFile struct {
	name string
	data []byte
}

// masker hides secrets: every env-file value (4+ characters) anywhere, and
// the values of secret-looking keys in YAML.
type masker struct{ values []string }

func newMasker(cfg *config.Config) *masker {
	m := &masker{}
	if cfg == nil {
		return m
	}
	for _, v := range cfg.Env {
		if len(v) >= 4 {
			m.values = append(m.values, v)
		}
	}
	sort.Slice(m.values, func(i, j int) bool { return len(m.values[i]) > len(m.values[j]) })
	return m
}

func (m *masker) text(b []byte) []byte {
	s := string(b)
	for _, v := range m.values {
		s = strings.ReplaceAll(s, v, "***")
	}
	return []byte(s)
}

// yaml masks the values of secret-looking keys of a YAML document (comments
// and layout kept); a file that is not YAML is kept only as masked text.
func (m *masker) yaml(b []byte) []byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return m.text(b)
	}
	var walk func(n *yaml.Node, key string)
	walk = func(n *yaml.Node, key string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, key)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], n.Content[i].Value)
			}
		case yaml.ScalarNode:
			if key != "" && doctor.IsSecretKey(key) && n.Value != "" {
				n.Value, n.Tag, n.Style = "***", "!!str", 0
			}
		}
	}
	walk(&doc, "")
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return m.text(b)
	}
	return m.text(out)
}

func collectBundle(ctx context.Context, g *globals, f *ctlFlags, lines int) []bundleFile {
	var files []bundleFile
	add := func(name string, data []byte) { files = append(files, bundleFile{name, data}) }
	path := g.ConfigPath()
	cfg, cfgErr := config.Load(path)
	if cfg == nil {
		cfg, _ = config.LoadWith(path, config.Options{SkipFileChecks: true})
	}
	m := newMasker(cfg)

	var v strings.Builder
	fmt.Fprintf(&v, "openim-supervisor %s (OpenIM %s)\n%s %s/%s\n", g.info.Version, g.info.OpenIMVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		v.Write(b)
	}
	if cfgErr != nil {
		fmt.Fprintf(&v, "\nconfig check:\n%v\n", cfgErr)
	}
	add("versions.txt", m.text([]byte(v.String())))

	if b, err := os.ReadFile(path); err == nil {
		add("config/"+filepath.Base(path), m.yaml(b))
	}
	if cfg != nil && cfg.EnvFile != "" {
		keys := make([]string, 0, len(cfg.Env))
		for k := range cfg.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("# variable names of " + cfg.EnvFile + "; every value is masked\n")
		for _, k := range keys {
			b.WriteString(k + "=***\n")
		}
		add("config/"+filepath.Base(cfg.EnvFile)+".names", []byte(b.String()))
	}
	if cfg != nil {
		ymls, _ := filepath.Glob(filepath.Join(cfg.Paths.OpenIMConfigDir, "*.yml"))
		for _, p := range ymls {
			if b, err := os.ReadFile(p); err == nil {
				add("openim-config/"+filepath.Base(p), m.yaml(b))
			}
		}
	}

	// The running supervisor: status and recent output.
	if sock, err := f.socketPath(&globals{info: g.info, configPath: g.configPath, stderr: &bytes.Buffer{}}); err == nil {
		c := control.NewClient(sock)
		sctx, cancel := context.WithTimeout(ctx, f.timeout)
		st, err := c.Status(sctx)
		cancel()
		if err != nil {
			add("status.txt", m.text([]byte("status: "+err.Error()+"\n")))
		} else {
			b, _ := json.MarshalIndent(st, "", "  ")
			add("status.json", m.text(b))
			var logs bytes.Buffer
			lctx, cancel := context.WithTimeout(ctx, f.timeout)
			_ = c.Logs(lctx, control.Request{Targets: []string{"all"}, Lines: lines * max(len(st.Instances), 1)}, func(l control.LogLine) error {
				fmt.Fprintf(&logs, "%s %s %s | %s\n", l.Time.Format(time.RFC3339Nano), l.Instance, l.Stream, l.Text)
				return nil
			})
			cancel()
			add("logs.txt", m.text(logs.Bytes()))
		}
	}

	rep := runDoctor(ctx, g, f, nil)
	b, _ := json.MarshalIndent(rep, "", "  ")
	add("doctor.json", m.text(b))
	return files
}

func writeTarGz(path string, files []bundleFile) error {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	now := time.Now()
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: "openim-support/" + f.name, Mode: 0o600, Size: int64(len(f.data)), ModTime: now}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(buf.Bytes()); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
