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
	g         *globals
	force     bool
	prefix    string
	processes string // "NAME[=INSTANCES],...": only these (a fleet host's share)
	preStart  string // "NAME,...": only these pre-start tools, when setPre
	setPre    bool
	stdout    bool // print the config; write nothing
}

func newInitCmd(g *globals) *cobra.Command {
	c := &initCmd{g: g}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented default config (and env file) for the OpenIM " + g.info.OpenIMVersion + " process set",
		Long: "Write the default config to --config (or $" + EnvConfig + ", or the OS default), and an\n" +
			"env file openim.env next to it (mode 0600) unless one exists: an existing env file holds\n" +
			"secrets and is never replaced. An existing config is replaced only after you answer yes,\n" +
			"or with --force; without a terminal to ask, init refuses. The replaced config is kept\n" +
			"as FILE.bak (FILE.bak.1, ... when taken).\n\n" +
			"--root DIR puts every path (the config and env file unless --config or $" + EnvConfig + "\n" +
			"names the config, binaries,\n" +
			"OpenIM config, logs, runtime, state) under DIR and creates those directories, for running\n" +
			"the supervisor unprivileged in one directory, and writes OpenIM's own default config files\n" +
			"into DIR/config when it holds none. When anything cannot be created, what init\n" +
			"created is removed again.\n\n" +
			"--processes NAME[=INSTANCES],... keeps only those programs of the set (a host of a fleet\n" +
			"that runs part of it), in the set's start order, with the barriers between the steps\n" +
			"that remain; --pre-start NAME,... keeps only those pre-start tools (\"\" for none).\n" +
			"--stdout prints the config and writes nothing (the Ansible role uses it).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.setPre = cmd.Flags().Changed("pre-start")
			return c.run()
		},
	}
	cmd.Flags().BoolVarP(&c.force, "force", "f", false, "replace an existing config without asking")
	cmd.Flags().StringVar(&c.prefix, "root", "", "put every path under this directory (bin, config, logs, run, state)")
	cmd.Flags().StringVar(&c.processes, "processes", "", "only these programs, e.g. openim-msggateway or openim-push=4,openim-msgtransfer")
	cmd.Flags().StringVar(&c.preStart, "pre-start", "", "only these of the pre-start tools, e.g. check-component (\"\": none)")
	cmd.Flags().BoolVar(&c.stdout, "stdout", false, "print the config to stdout and write nothing")
	return cmd
}

func (c *initCmd) run() error {
	ex := config.DefaultExamplePaths()
	path := c.g.ConfigPath()
	var dirs []string // to create, parents first
	if c.prefix != "" {
		prefix, err := filepath.Abs(c.prefix)
		if err != nil {
			return err
		}
		ex = config.ExamplePaths{BinDir: filepath.Join(prefix, "bin"), OpenIMConfigDir: filepath.Join(prefix, "config"),
			LogDir: filepath.Join(prefix, "logs"), RuntimeDir: filepath.Join(prefix, "run"),
			StateDir: filepath.Join(prefix, "state"), EnvFile: ex.EnvFile}
		// --root puts the config under DIR too, unless --config or
		// $OPENIM_SUPERVISOR_CONFIG name it (the other commands read that one).
		if c.g.configPath == "" && os.Getenv(EnvConfig) == "" {
			path = filepath.Join(prefix, "config.yaml")
		}
		dirs = []string{prefix, ex.BinDir, ex.OpenIMConfigDir, ex.LogDir, ex.RuntimeDir, ex.StateDir}
	}
	dirs = append(dirs, filepath.Dir(path))
	if c.stdout {
		// The printed config may be written anywhere (Ansible checks it in a
		// temp file first): name the env file next to --config absolutely.
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), ex.EnvFile))
		if err != nil {
			return err
		}
		ex.EnvFile = abs
	}
	text, err := c.text(ex)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if c.stdout {
		_, err := c.g.stdout.Write(text)
		return err
	}

	old, err := os.ReadFile(path)
	exists := err == nil
	switch {
	case exists && !c.force:
		if !canPrompt(c.g.stdin) {
			return fmt.Errorf("%s exists; not replacing it without asking, and there is no terminal to ask "+
				"(run init with --force to replace it, keeping a backup; or --config to write elsewhere)", path)
		}
		ok, err := c.confirm(fmt.Sprintf("%s exists. Replace it with the default config (a backup is kept)? [y/N] ", path))
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		if !ok {
			return fmt.Errorf("kept %s; nothing written", path)
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("init: %w", err)
	}

	// Everything is created or nothing: on a failure (e.g. no permission
	// for /etc/openim as a normal user) what this run created is removed.
	var created []string
	done := false
	defer func() {
		if done {
			return
		}
		for i := len(created) - 1; i >= 0; i-- {
			_ = os.Remove(created[i]) // dirs only when empty; files we wrote
		}
	}()
	for _, d := range dirs {
		made, err := mkdirAllTracked(d, 0o755)
		created = append(created, made...)
		if err != nil {
			return fmt.Errorf("init: %w (nothing was written)", err)
		}
	}

	if exists {
		st, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		backup, err := writeBackup(path+".bak", old, st.Mode().Perm())
		if err != nil {
			return fmt.Errorf("init: back up %s before replacing it: %w (nothing was written)", path, err)
		}
		fmt.Fprintf(c.g.stdout, "kept the previous %s as %s\n", path, backup)
	}
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if !exists {
		created = append(created, path)
	}

	envPath := filepath.Join(filepath.Dir(path), ex.EnvFile)
	f, err := os.OpenFile(envPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		done = true
		fmt.Fprintf(c.g.stdout, "wrote %s\n", path)
		fmt.Fprintf(c.g.stdout, "kept %s (it holds your secrets; init never replaces it)\n", envPath)
	case err != nil:
		return fmt.Errorf("init: %w", err)
	default:
		created = append(created, envPath)
		_, err := f.Write(config.ExampleEnv)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		done = true
		fmt.Fprintf(c.g.stdout, "wrote %s\n", path)
		fmt.Fprintf(c.g.stdout, "wrote %s (mode 0600)\n", envPath)
	}
	if c.prefix != "" {
		if err := writeOpenIMDefaults(c.g, ex.OpenIMConfigDir); err != nil {
			return fmt.Errorf("init: %w", err)
		}
	}
	fmt.Fprintf(c.g.stdout, "next: edit them, then run `openim-supervisor config check --config %s`\n", path)
	return nil
}

// text is the config to write: the example, or the part of it that
// --processes and --pre-start select.
func (c *initCmd) text(ex config.ExamplePaths) ([]byte, error) {
	if c.processes == "" && !c.setPre {
		return config.Example(ex), nil
	}
	var sel config.ExampleSelection
	if c.processes != "" {
		only, err := config.ParseExampleProcesses(c.processes)
		if err != nil {
			return nil, err
		}
		sel.Processes = only
	}
	if c.setPre {
		sel.SetPreStart = true
		for _, n := range strings.Split(c.preStart, ",") {
			if n = strings.TrimSpace(n); n != "" {
				sel.PreStart = append(sel.PreStart, n)
			}
		}
	}
	return config.ExampleOnly(ex, sel)
}

// mkdirAllTracked is os.MkdirAll that returns the directories it created,
// parents first, so that a failed init can remove them again.
func mkdirAllTracked(dir string, mode fs.FileMode) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], mode)
		switch {
		case errors.Is(err, fs.ErrExist): // not ours (e.g. a dangling symlink): never removed
			continue
		case err != nil:
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
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
