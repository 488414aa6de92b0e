package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf/importer"
)

type configImportCmd struct {
	g       *globals
	from    string
	to      string
	envFile string
	oldEnv  []string
	version string
	etcd    []string
	plan    bool
	force   bool
}

func newConfigImportCmd(g *globals) *cobra.Command {
	c := &configImportCmd{g: g}
	cmd := &cobra.Command{
		Use:   "import --from PATH",
		Short: "Carry an OpenIM 3.4–3.7 installation's settings into a new OpenIM " + openimconf.Version + " config dir",
		Long: `Read an existing OpenIM installation's config and write the OpenIM ` + openimconf.Version + ` config dir
(paths.openimConfigDir, or --to) plus the secrets into the env file (envFile, or --env-file;
mode 0640) as IMENV_ overrides; the yml files keep those keys empty.

--from is an OpenIM 3.4, 3.5 or 3.6 config.yaml (or the dir holding it, or the
repository root holding config/), or an OpenIM 3.7 config dir (zookeeper.yml, share.yml,
...). The environment the old OpenIM ran with is read from --env FILE (KEY=VALUE, e.g.
docker-compose's .env), default a .env next to the source: the 3.5/3.6 variables
(MONGO_ADDRESS, REDIS_PASSWORD, KAFKA_ADDRESS, ...) and 3.7's IMENV_ overrides.

Every setting that has a place in ` + openimconf.Version + ` is carried, except values equal to the old
release's own default (OpenIM ` + openimconf.Version + `'s default is kept for those); every setting
that has none is listed with the reason. --plan prints all of it and writes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return c.run() },
	}
	f := cmd.Flags()
	f.StringVar(&c.from, "from", "", "the old installation: config.yaml (3.4–3.6) or config dir (3.7)")
	f.StringVar(&c.to, "to", "", "the OpenIM "+openimconf.Version+" config dir to write (default: paths.openimConfigDir)")
	f.StringVar(&c.envFile, "env-file", "", "the env file for the secrets (default: envFile of the config)")
	f.StringArrayVar(&c.oldEnv, "env", nil, "the old installation's environment, KEY=VALUE lines (repeatable; default: a .env next to --from)")
	f.StringVar(&c.version, "openim-version", "", "the old release (default: recognised from the files)")
	f.StringSliceVar(&c.etcd, "etcd", nil, "switch discovery to etcd at these addresses (OpenIM 3.8's default)")
	f.BoolVar(&c.plan, "plan", false, "print what would be written and what has no place; write nothing")
	f.BoolVar(&c.force, "force", false, "replace a config dir that already holds files (they are moved aside)")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

func (c *configImportCmd) run() error {
	to, envFile := c.to, c.envFile
	var cfg *config.Config
	if to == "" || envFile == "" {
		var err error
		cfg, err = config.LoadWith(c.g.ConfigPath(), config.Options{SkipFileChecks: true})
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) || strings.Contains(err.Error(), "cannot read config") {
				return withCode(ExitUsage, fmt.Errorf("no config at %s to take the target from: pass --to DIR and --env-file FILE, or --config", c.g.ConfigPath()))
			}
			return withCode(ExitConfig, err)
		}
		if to == "" {
			to = cfg.Paths.OpenIMConfigDir
		}
		if envFile == "" {
			envFile = cfg.EnvFile
		}
	}
	if envFile == "" {
		return withCode(ExitUsage, errors.New("no env file for the secrets: set envFile in the config, or pass --env-file"))
	}
	p, err := importer.Read(c.from, importer.Options{EnvFiles: c.oldEnv, Version: c.version, Etcd: c.etcd})
	if err != nil {
		return withCode(ExitUsage, err)
	}
	p.Print(c.g.stdout, to, envFile)
	if c.plan {
		fmt.Fprintln(c.g.stdout, "\n--plan: nothing written")
		return nil
	}
	version := shippedOpenIM(c.g.info.OpenIMVersion)
	backup, err := p.Write(to, envFile, version, c.force)
	if err != nil {
		return err
	}
	if backup != "" {
		fmt.Fprintf(c.g.stdout, "\nmoved the files that were in %s to %s\n", to, backup)
	}
	fmt.Fprintf(c.g.stdout, "\nwrote %s (OpenIM %s, stamped) and the secrets to %s\n", to, version, envFile)
	env, err := config.ReadEnvFile(envFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	d, err := openimconf.Load(to, openimconf.Options{Env: env})
	if err != nil {
		return withCode(ExitConfig, err)
	}
	r := openimconf.Check(d, openimconf.CheckOptions{Shipped: version})
	for _, e := range r.Errors {
		fmt.Fprintf(c.g.stderr, "error: %v\n", e)
	}
	if len(r.Errors) > 0 {
		return withCode(ExitConfig, fmt.Errorf("the imported dir %s does not pass `config check` yet; fix the errors above", to))
	}
	fmt.Fprintf(c.g.stdout, "next: openim-supervisor config check --config %s\n", c.g.ConfigPath())
	return nil
}
