package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/openim-supervisor/openim-supervisor/internal/buildinfo"
	"github.com/openim-supervisor/openim-supervisor/internal/cli"
)

// runDocs writes the man pages (gzipped, section 1) and the bash, zsh and
// fish completions of openim-supervisor, from its cobra command tree, into
//
//	OUT/man/openim-supervisor*.1.gz
//	OUT/completions/openim-supervisor.bash, _openim-supervisor, openim-supervisor.fish
//
// Every package installs them (packaging/nfpm.yaml). The date in the man
// pages is fixed (-date, default the Unix epoch) so builds are reproducible.
func runDocs(args []string) error {
	var version, openimVersion, out, date string
	fs := flag.NewFlagSet("docs", flag.ContinueOnError)
	fs.StringVar(&version, "version", "", "openim-supervisor version (man page footer)")
	fs.StringVar(&openimVersion, "openim-version", "3.8.3", "OpenIM version the package ships")
	fs.StringVar(&out, "out", "", "output dir (gets man/ and completions/)")
	fs.StringVar(&date, "date", "", "date in the man pages, RFC 3339 (default: the Unix epoch)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if version == "" || out == "" {
		return errors.New("docs: -version and -out are required")
	}
	when := time.Unix(0, 0).UTC()
	if date != "" {
		t, err := time.Parse(time.RFC3339, date)
		if err != nil {
			return fmt.Errorf("docs: -date: %w", err)
		}
		when = t.UTC()
	}
	root := cli.Root(buildinfo.Info{Version: version, OpenIMVersion: openimVersion})
	root.DisableAutoGenTag = true
	if err := writeManPages(root, filepath.Join(out, "man"), version, when); err != nil {
		return err
	}
	return writeCompletions(root, filepath.Join(out, "completions"))
}

func writeManPages(root *cobra.Command, dir, version string, when time.Time) error {
	tmp, err := os.MkdirTemp("", "mkpkg-man")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	hdr := &doc.GenManHeader{Title: "OPENIM-SUPERVISOR", Section: "1", Date: &when,
		Source: "openim-supervisor " + version, Manual: "openim-supervisor manual"}
	if err := doc.GenManTree(root, hdr, tmp); err != nil {
		return fmt.Errorf("docs: man pages: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pages, err := filepath.Glob(filepath.Join(tmp, "*.1"))
	if err != nil || len(pages) == 0 {
		return fmt.Errorf("docs: no man page generated (%v)", err)
	}
	sort.Strings(pages)
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.ModTime = when // reproducible, and lintian wants no name/time in the header
		if _, err := zw.Write(b); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)+".gz"), z.Bytes(), 0o644); err != nil {
			return fmt.Errorf("docs: %w", err)
		}
	}
	return nil
}

func writeCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, gen := range map[string]func(*bytes.Buffer) error{
		"openim-supervisor.bash": func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
		"_openim-supervisor":     func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		"openim-supervisor.fish": func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
	} {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return fmt.Errorf("docs: completion %s: %w", name, err)
		}
		if !strings.Contains(b.String(), "openim-supervisor") {
			return fmt.Errorf("docs: completion %s does not name the program", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("docs: %w", err)
		}
	}
	return nil
}
