package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

type initCmd struct {
	g      *globals
	force  bool
	prefix string
}

func newInitCmd(g *globals) *cobra.Command {
	c := &initCmd{g: g}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented default config (and env file) for the OpenIM " + g.info.OpenIMVersion + " process set",
		Long: "Write the default config to --config (or $" + EnvConfig + ", or the OS default), and an\n" +
			"env file openim.env next to it (mode 0600) unless one exists: an existing env file holds\n" +
			"secrets and is never replaced. An existing config is replaced only after you answer yes,\n" +
			"or with --force; without a terminal to ask, init refuses.\n\n" +
			"--root DIR puts every path (binaries, OpenIM config, logs, runtime, state) under DIR and\n" +
			"creates those directories, for running the supervisor unprivileged in one directory.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return c.run() },
	}
	cmd.Flags().BoolVarP(&c.force, "force", "f", false, "replace an existing config without asking")
	cmd.Flags().StringVar(&c.prefix, "root", "", "put every path under this directory (bin, config, logs, run, state)")
	return cmd
}

func (c *initCmd) run() error {
	path := c.g.ConfigPath()
	ex := config.DefaultExamplePaths()
	if c.prefix != "" {
		prefix, err := filepath.Abs(c.prefix)
		if err != nil {
			return err
		}
		ex = config.ExamplePaths{BinDir: filepath.Join(prefix, "bin"), OpenIMConfigDir: filepath.Join(prefix, "config"),
			LogDir: filepath.Join(prefix, "logs"), RuntimeDir: filepath.Join(prefix, "run"),
			StateDir: filepath.Join(prefix, "state"), EnvFile: ex.EnvFile}
		for _, d := range []string{ex.BinDir, ex.OpenIMConfigDir, ex.LogDir, ex.RuntimeDir, ex.StateDir} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("init: %w", err)
			}
		}
	}

	if _, err := os.Stat(path); err == nil && !c.force {
		if !canPrompt(c.g.stdin) {
			return fmt.Errorf("%s exists; not replacing it without asking, and there is no terminal to ask "+
				"(run init with --force to replace it, or --config to write elsewhere)", path)
		}
		ok, err := c.confirm(fmt.Sprintf("%s exists. Replace it with the default config? [y/N] ", path))
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		if !ok {
			return fmt.Errorf("kept %s; nothing written", path)
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("init: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := os.WriteFile(path, config.Example(ex), 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	fmt.Fprintf(c.g.stdout, "wrote %s\n", path)

	envPath := filepath.Join(filepath.Dir(path), ex.EnvFile)
	f, err := os.OpenFile(envPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		fmt.Fprintf(c.g.stdout, "kept %s (it holds your secrets; init never replaces it)\n", envPath)
	case err != nil:
		return fmt.Errorf("init: %w", err)
	default:
		_, err := f.Write(config.ExampleEnv)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		fmt.Fprintf(c.g.stdout, "wrote %s (mode 0600)\n", envPath)
	}
	fmt.Fprintf(c.g.stdout, "next: edit them, then run `openim-supervisor config check --config %s`\n", path)
	return nil
}

// confirm asks a yes/no question on the terminal; anything but y/yes is no.
func (c *initCmd) confirm(question string) (bool, error) {
	fmt.Fprint(c.g.stdout, question)
	line, err := bufio.NewReader(c.g.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// canPrompt reports whether r is a terminal someone can answer a question on.
func canPrompt(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
