// Command mkpkg builds the openim-server packages with the nfpm library
// (deb, rpm, apk, archlinux from packaging/nfpm.yaml) and the Windows zip and
// macOS tar.gz with the standard library, for people without goreleaser.
// scripts/packages.sh (`make packages`) fills a staging dir and calls it:
//
//	mkpkg pkg -stage DIR -version V -arch amd64 -formats deb,rpm,apk,archlinux -out DIR
//	mkpkg archive -stage DIR -version V -os windows|darwin -arch amd64 -out DIR
//	mkpkg config -os linux|windows|darwin -out FILE
//	mkpkg scripts -version V -out DIR   (maintainer scripts, for goreleaser)
//	mkpkg docs -version V -out DIR      (man pages and shell completions)
//	mkpkg goreleaser [-check]           (.goreleaser.yaml nfpms from nfpm.yaml)
//
// Run it from the repository root (nfpm.yaml names ./packaging/... sources).
package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/apk"
	_ "github.com/goreleaser/nfpm/v2/arch"
	_ "github.com/goreleaser/nfpm/v2/deb"
	_ "github.com/goreleaser/nfpm/v2/rpm"
	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/paths"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: mkpkg pkg|archive|config|scripts|docs|goreleaser [flags]")
	}
	switch args[0] {
	case "pkg":
		return runPkg(args[1:], out)
	case "archive":
		return runArchive(args[1:], out)
	case "config":
		return runConfig(args[1:])
	case "scripts":
		return runScripts(args[1:])
	case "goreleaser":
		return runGoreleaser(args[1:])
	case "docs":
		return runDocs(args[1:])
	default:
		return fmt.Errorf("unknown command %q (want pkg, archive, config, scripts, docs or goreleaser)", args[0])
	}
}

type pkgFlags struct {
	config, stage, version, arch, formats, out, scripts string
}

func runPkg(args []string, out io.Writer) error {
	var f pkgFlags
	fs := flag.NewFlagSet("pkg", flag.ContinueOnError)
	fs.StringVar(&f.config, "config", "packaging/nfpm.yaml", "nfpm config")
	fs.StringVar(&f.stage, "stage", "", "staging dir filled by scripts/packages.sh")
	fs.StringVar(&f.version, "version", "", "package version (semver, no leading v needed)")
	fs.StringVar(&f.arch, "arch", "amd64", "GOARCH of the binaries")
	fs.StringVar(&f.formats, "formats", "deb,rpm,apk,archlinux", "comma-separated nfpm packagers")
	fs.StringVar(&f.out, "out", "dist", "output dir")
	fs.StringVar(&f.scripts, "scripts", "packaging", "dir holding deb/ rpm/ apk/ arch/ maintainer scripts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.stage == "" || f.version == "" {
		return errors.New("pkg: -stage and -version are required")
	}
	stage, err := filepath.Abs(f.stage)
	if err != nil {
		return fmt.Errorf("stage %s: %w", f.stage, err)
	}
	version := strings.TrimPrefix(f.version, "v")
	if err := renderScripts(f.scripts, filepath.Join(stage, "scripts"), version); err != nil {
		return err
	}
	cfg, err := loadConfig(f.config, map[string]string{"VERSION": version, "ARCH": f.arch, "STAGE": stage})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", f.out, err)
	}
	for _, format := range strings.Split(f.formats, ",") {
		name, err := buildPackage(&cfg, strings.TrimSpace(format), f.out)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, name)
	}
	return nil
}

// loadConfig reads the nfpm config with ${NAME} replaced everywhere (nfpm
// itself expands only some fields, not script paths); an unknown name is an
// error rather than an empty string.
func loadConfig(path string, env map[string]string) (nfpm.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nfpm.Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	var missing []string
	text := os.Expand(string(b), func(k string) string {
		v, ok := env[k]
		if !ok {
			missing = append(missing, k)
		}
		return v
	})
	if len(missing) > 0 {
		return nfpm.Config{}, fmt.Errorf("%s: unknown variables %v (known: VERSION, ARCH, STAGE)", path, missing)
	}
	cfg, err := nfpm.ParseWithEnvMapping(strings.NewReader(text), func(k string) string { return env[k] })
	if err != nil {
		return nfpm.Config{}, fmt.Errorf("parse %s: %w", path, err)
	}
	return cfg, nil
}

func buildPackage(cfg *nfpm.Config, format, outDir string) (string, error) {
	packager, err := nfpm.Get(format)
	if err != nil {
		return "", fmt.Errorf("packager %s: %w", format, err)
	}
	info, err := cfg.Get(format)
	if err != nil {
		return "", fmt.Errorf("config for %s: %w", format, err)
	}
	info = nfpm.WithDefaults(info)
	info.Target = filepath.Join(outDir, packager.ConventionalFileName(info))
	if err := nfpm.Validate(info); err != nil {
		return "", fmt.Errorf("validate %s: %w", format, err)
	}
	fh, err := os.Create(info.Target)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", info.Target, err)
	}
	if err := packager.Package(info, fh); err != nil {
		fh.Close()
		os.Remove(info.Target)
		return "", fmt.Errorf("build %s: %w", info.Target, err)
	}
	if err := fh.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", info.Target, err)
	}
	return info.Target, nil
}

// rpmVersion spells v as nfpm writes it into the rpm (prerelease after "~").
// The rpm %pre cannot ask rpm for the version being installed, so it is
// filled into the scripts here.
func rpmVersion(v string) string {
	meta := ""
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v, meta = v[:i], v[i:]
	}
	if i := strings.IndexByte(v, '-'); i >= 0 {
		v = v[:i] + "~" + strings.ReplaceAll(v[i+1:], "-", "_")
	}
	return v + meta
}

// renderScripts copies packaging/{deb,rpm,apk,arch}/* to dst, replacing
// @VERSION@ with the package's version.
func renderScripts(src, dst, version string) error {
	for _, dir := range []string{"deb", "rpm", "apk", "arch"} {
		entries, err := os.ReadDir(filepath.Join(src, dir))
		if err != nil {
			return fmt.Errorf("read scripts: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(dst, dir), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dst, err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, dir, e.Name()))
			if err != nil {
				return fmt.Errorf("read script: %w", err)
			}
			s := strings.ReplaceAll(string(b), "@VERSION@", rpmVersion(version))
			if err := os.WriteFile(filepath.Join(dst, dir, e.Name()), []byte(s), 0o755); err != nil {
				return fmt.Errorf("write script: %w", err)
			}
		}
	}
	return nil
}

type archiveFlags struct {
	stage, version, goos, arch, out, packaging string
}

// entry is one file of an archive.
type entry struct {
	src  string // file on disk
	dst  string // slash path inside the archive
	mode fs.FileMode
}

func runArchive(args []string, out io.Writer) error {
	var f archiveFlags
	fs := flag.NewFlagSet("archive", flag.ContinueOnError)
	fs.StringVar(&f.stage, "stage", "", "staging dir filled by scripts/packages.sh")
	fs.StringVar(&f.version, "version", "", "version for the file name")
	fs.StringVar(&f.goos, "os", "", "windows (zip) or darwin (tar.gz)")
	fs.StringVar(&f.arch, "arch", "amd64", "GOARCH of the binaries")
	fs.StringVar(&f.out, "out", "dist", "output dir")
	fs.StringVar(&f.packaging, "packaging", "packaging", "the packaging dir (README, plist)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.stage == "" || f.version == "" {
		return errors.New("archive: -stage and -version are required")
	}
	version := strings.TrimPrefix(f.version, "v")
	base := fmt.Sprintf("openim-server_%s_%s_%s", version, f.goos, f.arch)
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", f.out, err)
	}
	switch f.goos {
	case "windows":
		entries, err := windowsLayout(f.stage, f.packaging, base)
		if err != nil {
			return err
		}
		target := filepath.Join(f.out, base+".zip")
		if err := writeZip(target, entries); err != nil {
			return err
		}
		fmt.Fprintln(out, target)
	case "darwin":
		entries, err := darwinLayout(f.stage, f.packaging, base)
		if err != nil {
			return err
		}
		target := filepath.Join(f.out, base+".tar.gz")
		if err := writeTarGz(target, entries); err != nil {
			return err
		}
		fmt.Fprintln(out, target)
	default:
		return fmt.Errorf("archive: -os %q: want windows or darwin", f.goos)
	}
	return nil
}

// windowsLayout: everything under one folder; the .exe files side by side
// (the supervisor's default binDir is its own folder), OpenIM's config in
// config\, the supervisor's config.yaml and openim.env, README.txt.
func windowsLayout(stage, pkgDir, base string) ([]entry, error) {
	return flatLayout(stage, pkgDir, base, ".exe",
		[2]string{filepath.Join(pkgDir, "windows", "README.txt"), "README.txt"})
}

// darwinLayout is the same flat folder as the Windows zip (and goreleaser's
// archives), with the launchd plist and README.md, which says where each file
// goes under /usr/local.
func darwinLayout(stage, pkgDir, base string) ([]entry, error) {
	return flatLayout(stage, pkgDir, base, "",
		[2]string{filepath.Join(pkgDir, "darwin", "org.openim.server.plist"), "org.openim.server.plist"},
		[2]string{filepath.Join(pkgDir, "darwin", "README.md"), "README.md"})
}

// flatLayout is the one-folder archive of the Windows zip and the macOS
// tar.gz: the supervisor (named with exe's suffix) and OpenIM's programs side
// by side, OpenIM's config in config/, config.yaml, openim.env (0640: it holds
// passwords) and the per-OS extras {src, dst}.
func flatLayout(stage, pkgDir, base, exe string, extras ...[2]string) ([]entry, error) {
	var es []entry
	add := func(src, dst string, mode fs.FileMode) { es = append(es, entry{src, base + "/" + dst, mode}) }
	add(filepath.Join(stage, "bin", "openim-supervisor"+exe), "openim-supervisor"+exe, 0o755)
	bins, err := listFiles(filepath.Join(stage, "openim", "bin"))
	if err != nil {
		return nil, err
	}
	for _, b := range bins {
		add(filepath.Join(stage, "openim", "bin", b), b, 0o755)
	}
	cfgs, err := listFiles(filepath.Join(stage, "openim", "config"))
	if err != nil {
		return nil, err
	}
	for _, c := range cfgs {
		add(filepath.Join(stage, "openim", "config", c), "config/"+c, 0o644)
	}
	add(filepath.Join(stage, "etc", "config.yaml"), "config.yaml", 0o644)
	add(filepath.Join(pkgDir, "openim.env"), "openim.env", 0o640)
	for _, x := range extras {
		add(x[0], x[1], 0o644)
	}
	return es, nil
}

// listFiles returns the regular files under dir, as slash paths, sorted.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}

// mtime is fixed so that archives are reproducible.
func mtime() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }

func writeZip(target string, es []entry) (err error) {
	fh, err := os.Create(target)
	if err != nil {
		return fmt.Errorf("create %s: %w", target, err)
	}
	defer func() {
		if cerr := fh.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", target, cerr)
		}
	}()
	zw := zip.NewWriter(fh)
	for _, e := range es {
		hdr := &zip.FileHeader{Name: e.dst, Method: zip.Deflate, Modified: mtime()}
		hdr.SetMode(e.mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("zip %s: %w", e.dst, err)
		}
		if err := copyFile(w, e.src); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip %s: %w", target, err)
	}
	return nil
}

func writeTarGz(target string, es []entry) (err error) {
	fh, err := os.Create(target)
	if err != nil {
		return fmt.Errorf("create %s: %w", target, err)
	}
	defer func() {
		if cerr := fh.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", target, cerr)
		}
	}()
	gz := gzip.NewWriter(fh)
	tw := tar.NewWriter(gz)
	dirs := map[string]bool{}
	for _, e := range es {
		for d := path.Dir(e.dst); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var dlist []string
	for d := range dirs {
		dlist = append(dlist, d)
	}
	sort.Strings(dlist)
	for _, d := range dlist {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime()}); err != nil {
			return fmt.Errorf("tar %s: %w", d, err)
		}
	}
	for _, e := range es {
		st, err := os.Stat(e.src)
		if err != nil {
			return fmt.Errorf("stat %s: %w", e.src, err)
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.dst, Mode: int64(e.mode), Size: st.Size(), ModTime: mtime()}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar %s: %w", e.dst, err)
		}
		if err := copyFile(tw, e.src); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("tar %s: %w", target, err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("gzip %s: %w", target, err)
	}
	return nil
}

func copyFile(w io.Writer, src string) error {
	fh, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer fh.Close()
	if _, err := io.Copy(w, fh); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}

// runConfig writes the supervisor's config as `openim-supervisor init` does
// (config.Example), with the default paths of the target OS: the packages
// are built on Linux, and init would render the host's paths.
func runConfig(args []string) error {
	var goos, target string
	fs := flag.NewFlagSet("config", flag.ContinueOnError)
	fs.StringVar(&goos, "os", "linux", "target OS: linux, windows or darwin")
	fs.StringVar(&target, "out", "", "file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if target == "" {
		return errors.New("config: -out is required")
	}
	p, err := examplePaths(goos)
	if err != nil {
		return err
	}
	if err := os.WriteFile(target, config.Example(p), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	return nil
}

// examplePaths are internal/paths' defaults for goos, with the env file named
// relative to the config (it sits next to config.yaml in every package).
func examplePaths(goos string) (config.ExamplePaths, error) {
	d, err := paths.For(goos)
	if err != nil {
		return config.ExamplePaths{}, fmt.Errorf("config: -os: %w", err)
	}
	return config.ExamplePaths{BinDir: d.BinDir, OpenIMConfigDir: d.OpenIMConfigDir, LogDir: d.LogDir,
		RuntimeDir: d.RuntimeDir, StateDir: d.StateDir, EnvFile: "openim.env"}, nil
}

// runScripts renders the maintainer scripts for a version (goreleaser's
// nfpms section points at the result).
func runScripts(args []string) error {
	var version, out, src string
	fs := flag.NewFlagSet("scripts", flag.ContinueOnError)
	fs.StringVar(&version, "version", "", "package version")
	fs.StringVar(&out, "out", "", "output dir (gets deb/ rpm/ apk/ arch/)")
	fs.StringVar(&src, "scripts", "packaging", "dir holding deb/ rpm/ apk/ arch/")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if version == "" || out == "" {
		return errors.New("scripts: -version and -out are required")
	}
	return renderScripts(src, out, strings.TrimPrefix(version, "v"))
}
