package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/config/migrate"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the config file, or migrate it to the current schema",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newConfigCheckCmd(g), newConfigMigrateCmd(g), newConfigStampCmd(g), newConfigDefaultsCmd(g), newConfigImportCmd(g), newConfigUpgradeCmd(g))
	return cmd
}

type configCheckCmd struct {
	g       *globals
	verbose bool
}

func newConfigCheckCmd(g *globals) *cobra.Command {
	c := &configCheckCmd{g: g}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the config file; exit 3 with FILE:LINE: KEY: problem for each problem",
		Long: "Load the config exactly as `run` does (strict keys, ${VAR} expansion, the env file,\n" +
			"binaries and directories present) and report every problem at once. Then check OpenIM's\n" +
			"own config dir (paths.openimConfigDir) as `run` does: its version stamp (exit 12 when it is\n" +
			"written for another OpenIM version, with the command that migrates it), every file and key\n" +
			"OpenIM " + "3.8.3 reads, with the env file's IMENV_ overrides applied (keys it ignores are\n" +
			"warnings), component addresses, and each process's instances and ports against OpenIM's\n" +
			"port lists (exit 3). It also asks etcd whether OpenIM's config centre is on.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return c.run() },
	}
	cmd.Flags().BoolVarP(&c.verbose, "verbose", "v", false, "also print every instance's command line (env values hidden)")
	return cmd
}

func (c *configCheckCmd) run() error {
	path := c.g.ConfigPath()
	cfg, err := config.Load(path)
	if err != nil {
		return withCode(ExitConfig, err)
	}
	sc, err := openimCheck(cfg, c.g.info.OpenIMVersion, c.g.stdout)
	if err != nil {
		return err
	}
	configCentre(context.Background(), sc, c.g.stdout)
	inst := cfg.Instances()
	fmt.Fprintf(c.g.stdout, "%s: OK (schema %d, %d processes, %d instances, %d pre-start tools)\n",
		path, cfg.Version, len(cfg.Processes), len(inst), len(cfg.PreStart))
	if sc.Needed {
		fmt.Fprintf(c.g.stdout, "%s: OK for OpenIM %s (%d files, %d warnings)\n",
			sc.Dir, c.g.info.OpenIMVersion, len(sc.Loaded.Files), len(sc.Report.Warnings))
	}
	if !c.verbose {
		return nil
	}
	for _, t := range cfg.Tools() {
		fmt.Fprintf(c.g.stdout, "pre-start %-22s %s\n", t.Name, commandLine(t.Path, t.Args))
	}
	for _, in := range inst {
		fmt.Fprintf(c.g.stdout, "%-32s %s\n", in.ID(), commandLine(in.Path, in.Args))
	}
	if len(cfg.Env) > 0 {
		keys := make([]string, 0, len(cfg.Env))
		for k := range cfg.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(c.g.stdout, "env file %s: %d variables (%s), values hidden\n", cfg.EnvFile, len(keys), strings.Join(keys, ", "))
	}
	return nil
}

func commandLine(path string, args []string) string {
	parts := []string{path}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

type configMigrateCmd struct {
	g      *globals
	dryRun bool
}

func newConfigMigrateCmd(g *globals) *cobra.Command {
	c := &configMigrateCmd{g: g}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Rewrite an older-schema config file to the current schema, keeping values and comments",
		Long: "Rewrite the config file in place to schema version " + fmt.Sprint(config.CurrentVersion) + ", step by step,\n" +
			"keeping your values, order and comments. The original is kept next to it as\n" +
			"FILE.vN.bak. A file already at the current version is left alone.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return c.run() },
	}
	cmd.Flags().BoolVar(&c.dryRun, "dry-run", false, "print the migrated file instead of writing it")
	return cmd
}

func (c *configMigrateCmd) run() error {
	path := c.g.ConfigPath()
	in, err := os.ReadFile(path)
	if err != nil {
		return withCode(ExitConfig, fmt.Errorf("config migrate: %w", err))
	}
	res, err := migrate.Migrate(path, in)
	if err != nil {
		return withCode(ExitConfig, err)
	}
	if res.From == res.To {
		fmt.Fprintf(c.g.stdout, "%s is already at schema version %d; nothing to do\n", path, res.To)
		return nil
	}
	abs, _ := filepath.Abs(path)
	if _, err := config.Parse(abs, res.Out, config.Options{SkipFileChecks: true}); err != nil {
		return withCode(ExitConfig, fmt.Errorf("the migrated file would not load, so %s is unchanged "+
			"(line numbers are those of the migrated text, see --dry-run):\n%w", path, err))
	}
	if c.dryRun {
		_, err := c.g.stdout.Write(res.Out)
		return err
	}

	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config migrate: %w", err)
	}
	backup, err := writeBackup(fmt.Sprintf("%s.v%d.bak", path, res.From), in, st.Mode().Perm())
	if err != nil {
		return fmt.Errorf("config migrate: back up %s: %w", path, err)
	}
	// Rewrite in place: the file keeps its owner, mode and any symlink to it;
	// the backup covers a write that fails half-way.
	if err := os.WriteFile(path, res.Out, st.Mode().Perm()); err != nil {
		return fmt.Errorf("config migrate: write %s (the original is in %s): %w", path, backup, err)
	}
	fmt.Fprintf(c.g.stdout, "migrated %s from schema version %d to %d; the original is kept as %s\n",
		path, res.From, res.To, backup)
	for _, s := range res.Applied {
		fmt.Fprintf(c.g.stdout, "  %s\n", s)
	}
	if _, err := config.Load(path); err != nil {
		fmt.Fprintf(c.g.stderr, "warning: the migrated config does not pass `config check` yet:\n%v\n", err)
	}
	return nil
}

// writeBackup writes data to base, or base.1, .2, ... when taken, never
// replacing an earlier backup, and returns the name it used.
func writeBackup(base string, data []byte, mode fs.FileMode) (string, error) {
	for i := 0; i < 1000; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s.%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return "", err
		}
		return name, f.Close()
	}
	return "", fmt.Errorf("%s through .999 all exist", base)
}
