package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// OpenIM's own config dir in `config check` and `run`: the version stamp,
// the dir loaded as OpenIM 3.8.3 loads it (IMENV_ overrides from the env
// file), its keys against OpenIM's structs, and the processes' instance
// counts and ports against OpenIM's port lists.

// openimCheck runs openimconf.CheckSupervisor and turns it into the error
// `config check` and `run` return: exit 12 for a dir of another OpenIM
// version (the message says which command migrates it), exit 3 for errors.
// Warnings and notes go to w.
func openimCheck(cfg *config.Config, openimVersion string, w io.Writer) (*openimconf.SupervisorCheck, error) {
	openimVersion = shippedOpenIM(openimVersion)
	sc := openimconf.CheckSupervisor(cfg, openimVersion, openimconf.CheckOptions{Shipped: openimVersion})
	if !sc.Needed {
		return sc, nil
	}
	if sc.Version != nil {
		var ve *openimconf.VersionError
		if errors.As(sc.Version, &ve) {
			return sc, withCode(ExitConfigVersion, sc.Version)
		}
		return sc, withCode(ExitConfig, sc.Version)
	}
	for _, e := range sc.Report.Warnings {
		fmt.Fprintf(w, "warning: %v\n", e)
	}
	for _, n := range sc.Report.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(sc.Report.Errors) > 0 {
		return sc, withCode(ExitConfig, sc.Report.Errors)
	}
	return sc, nil
}

// configCentre says, in `config check`, whether OpenIM's etcd config centre
// is on: then etcd, not the files, is the source of truth for OpenIM
// releases that have it (after 3.8.3); openim-supervisor does not follow it.
func configCentre(ctx context.Context, sc *openimconf.SupervisorCheck, w io.Writer) {
	if sc.Loaded == nil {
		return
	}
	c, err := sc.Loaded.Typed()
	if err != nil || c.Discovery.Enable != "etcd" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	on, err := openimconf.ConfigCenter(ctx, c.Discovery)
	switch {
	case err != nil:
		fmt.Fprintf(w, "note: could not ask etcd whether OpenIM's config centre (%s) is on: %v\n", openimconf.ConfigCenterKey, err)
	case on:
		fmt.Fprintf(w, "warning: etcd key %s is \"enable\": OpenIM releases with a config centre take their config from etcd, "+
			"so the files in %s are not the source of truth there (openim-supervisor checks the files only; OpenIM %s itself reads the files)\n",
			openimconf.ConfigCenterKey, sc.Dir, openimconf.Version)
	}
}

// configStampCmd writes the version stamp.
func newConfigStampCmd(g *globals) *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "stamp",
		Short: "Record in the OpenIM config dir which OpenIM version it is written for",
		Long: "Write " + openimconf.StampFile + " in paths.openimConfigDir with the OpenIM version this binary ships\n" +
			"(or --openim-version). `run` and `config check` refuse a dir stamped for another version.\n" +
			"Use it on a 3.8 dir you wrote by hand; `config import` and `upgrade` stamp what they write.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := config.LoadWith(g.ConfigPath(), config.Options{SkipFileChecks: true})
			if err != nil {
				return withCode(ExitConfig, err)
			}
			if version == "" {
				version = shippedOpenIM(g.info.OpenIMVersion)
			}
			if _, err := openimconf.Load(cfg.Paths.OpenIMConfigDir, openimconf.Options{Env: cfg.Env}); err != nil {
				return withCode(ExitConfig, err)
			}
			if err := openimconf.WriteStamp(cfg.Paths.OpenIMConfigDir, version); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "stamped %s as OpenIM %s\n", cfg.Paths.OpenIMConfigDir, version)
			return nil
		},
	}
	cmd.Flags().StringVar(&version, "openim-version", "", "the version to record (default: the one this binary ships)")
	return cmd
}

// writeOpenIMDefaults writes OpenIM's shipped config files (the release this
// binary ships) into dir when it holds none of them, stamped.
func writeOpenIMDefaults(g *globals, dir string) error {
	if d, err := openimconf.Load(dir, openimconf.Options{LookupEnv: openimconf.NoEnviron}); err == nil && len(d.Files) > 0 {
		fmt.Fprintf(g.stdout, "kept OpenIM's config in %s\n", dir)
		return nil
	}
	wrote, err := openimconf.WriteDefaults(dir, shippedOpenIM(g.info.OpenIMVersion), false)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "wrote OpenIM %s's %d config files to %s (stamped in %s)\n", g.info.OpenIMVersion, len(wrote), dir, openimconf.StampFile)
	return nil
}

// newConfigDefaultsCmd writes OpenIM's shipped config files.
func newConfigDefaultsCmd(g *globals) *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "defaults",
		Short: "Write OpenIM's own default config files (as its release ships them)",
		Long: "Write the config files OpenIM " + g.info.OpenIMVersion + " ships into --out (default: paths.openimConfigDir)\n" +
			"and stamp the dir. Existing files are kept unless --force. Useful to start a config dir by\n" +
			"hand, or to compare your files (or an upgrade's .new file) with the shipped ones.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if out == "" {
				cfg, err := config.LoadWith(g.ConfigPath(), config.Options{SkipFileChecks: true})
				if err != nil {
					return withCode(ExitConfig, err)
				}
				out = cfg.Paths.OpenIMConfigDir
			}
			wrote, err := openimconf.WriteDefaults(out, shippedOpenIM(g.info.OpenIMVersion), force)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "wrote %d of OpenIM %s's config files to %s\n", len(wrote), g.info.OpenIMVersion, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write (default: paths.openimConfigDir of the config)")
	cmd.Flags().BoolVar(&force, "force", false, "replace files that exist")
	return cmd
}

// shippedOpenIM is the OpenIM version this binary ships (buildinfo), or the
// one openimconf knows when the build stamped none.
func shippedOpenIM(v string) string {
	if v == "" {
		return openimconf.Version
	}
	return v
}
