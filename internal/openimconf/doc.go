// Package openimconf knows OpenIM 3.8.3's own config dir (`-c DIR` of every
// OpenIM service): the one place in openim-supervisor that reads share.yml,
// mongodb.yml, openim-api.yml and the rest.
//
//	d, err := openimconf.Load(dir, openimconf.Options{Env: cfg.Env}) // YAML nodes with lines, IMENV_ overrides
//	c, err := d.Typed()                                              // what each OpenIM service decodes
//	r := openimconf.Check(d, openimconf.CheckOptions{})              // r.Errors, r.Warnings: FILE:LINE: KEY: ... (fix: ...)
//	errs := openimconf.CheckPrograms(d, progs)                       // instances vs port lists, ports: vs OpenIM's
//	st, err := openimconf.CheckVersion(dir, "3.8.3", cfgPath)        // the openim-version stamp
//	on, err := openimconf.ConfigCenter(ctx, c.Discovery)             // etcd enable-config-center
//
// Loading follows OpenIM 3.8.3's loader (pkg/common/config/load_config.go:
// viper with AutomaticEnv, prefix IMENV_<FILE>, "." → "_", then mapstructure):
//   - a variable overrides only a key present in the file (viper's leaf keys;
//     a list is one leaf), named PREFIX_KEY_SUBKEY in upper case;
//   - an empty variable counts as unset;
//   - a variable naming a parent key (IMENV_OPENIM_API_API) makes OpenIM read
//     every key under it as zero;
//   - values are decoded with weak typing: "a,b" fills a list, "10002"
//     an int, a lone value a one-element list.
//
// The typed view is a mirror of OpenIM's structs (types.go) kept equal to
// them by test/openimconf, a separate module that imports OpenIM 3.8.3.
package openimconf
