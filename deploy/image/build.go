package main

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's user: not root, the same name as the packages' system user.
const (
	imageUID  = 65532
	imageGID  = 65532
	imageUser = "openim"
)

// Paths inside the image (the Linux package layout).
const (
	supervisorPath = "/usr/bin/openim-supervisor"
	openimBinDir   = "/usr/lib/openim/bin"
	openimConfDir  = "/etc/openim/config"
	supervisorConf = "/etc/openim/config.yaml"
	supervisorEnv  = "/etc/openim/openim.env"
)

type buildOptions struct {
	Stages []string
	Tag    string
	OCI    string
	Tar    string
	Epoch  time.Time
	// EnvFile is the supervisor's env file (packaging/openim.env), installed
	// 0640 root:openim as the packages do; the default config names it.
	EnvFile string
}

func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

func build(ctx context.Context, o buildOptions, stdout io.Writer) error {
	ref, err := name.ParseReference(o.Tag)
	if err != nil {
		return fmt.Errorf("-tag %q: %w", o.Tag, err)
	}
	tmp, err := os.MkdirTemp("", "openim-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var images []v1.Image
	var platforms []v1.Platform
	for i, stage := range o.Stages {
		if err := ctx.Err(); err != nil {
			return err
		}
		arch, err := stageArch(stage)
		if err != nil {
			return err
		}
		img, err := buildOne(stage, arch, filepath.Join(tmp, strconv.Itoa(i)), o.Epoch, o.EnvFile)
		if err != nil {
			return fmt.Errorf("%s: %w", stage, err)
		}
		images = append(images, img)
		platforms = append(platforms, v1.Platform{OS: "linux", Architecture: arch})
	}

	if err := os.RemoveAll(o.OCI); err != nil {
		return err
	}
	lp, err := layout.Write(o.OCI, empty.Index)
	if err != nil {
		return fmt.Errorf("OCI layout %s: %w", o.OCI, err)
	}
	for i, img := range images {
		p := platforms[i]
		if err := lp.AppendImage(img, layout.WithPlatform(p),
			layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref.String()})); err != nil {
			return fmt.Errorf("write %s to %s: %w", p.Architecture, o.OCI, err)
		}
		d, err := img.Digest()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s linux/%s %s\n", ref, p.Architecture, d)
	}
	if o.Tar != "" {
		if len(images) != 1 {
			return fmt.Errorf("-tar holds one platform; give one -stage (got %d)", len(images))
		}
		if err := tarball.WriteToFile(o.Tar, ref, images[0]); err != nil {
			return fmt.Errorf("write %s: %w", o.Tar, err)
		}
	}
	return nil
}

// stageArch reads the architecture from a stage dir named linux_<arch>.
func stageArch(stage string) (string, error) {
	base := filepath.Base(filepath.Clean(stage))
	arch, ok := strings.CutPrefix(base, "linux_")
	if !ok || arch == "" {
		return "", fmt.Errorf("stage %s: want a directory named linux_<arch> (scripts/packages.sh: <dist>/stage/linux_amd64)", stage)
	}
	return arch, nil
}

func buildOne(stage, arch, tmp string, epoch time.Time, envFile string) (v1.Image, error) {
	for _, p := range []string{"bin/openim-supervisor", "openim/bin/openim-api", "openim/config/share.yml", "etc/config.yaml"} {
		if _, err := os.Stat(filepath.Join(stage, p)); err != nil {
			return nil, fmt.Errorf("stage is incomplete (%w); build it with TARGETS=linux/%s scripts/packages.sh", err, arch)
		}
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	base := newLayer(epoch, "base files (passwd, writable dirs, CA roots, zone data)")
	base.dir("/etc", 0o755, 0, 0)
	base.file("/etc/passwd", 0o644, 0, 0, []byte(fmt.Sprintf(
		"root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:OpenIM server:/var/lib/openim:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
		imageUser, imageUID, imageGID)))
	base.file("/etc/group", 0o644, 0, 0, []byte(fmt.Sprintf("root:x:0:\n%s:x:%d:\nnogroup:x:65534:\n", imageUser, imageGID)))
	// Writable places; in Kubernetes they are emptyDir/volume mounts (the
	// root file system is read-only there).
	base.dir("/tmp", 0o1777, 0, 0)
	base.dir("/run", 0o755, 0, 0)
	for _, d := range []string{"/var/lib/openim", "/var/log/openim", "/run/openim"} {
		base.dir(d, 0o750, imageUID, imageGID)
	}
	// TLS roots (push providers, S3 over https) and zone data (--time-zone)
	// from the build machine's Debian packages, when present.
	if err := base.hostFile("/etc/ssl/certs/ca-certificates.crt", 0o644); err != nil {
		return nil, err
	}
	if err := base.hostTree("/usr/share/zoneinfo"); err != nil {
		return nil, err
	}

	openim := newLayer(epoch, "OpenIM programs and default config")
	if err := openim.tree(filepath.Join(stage, "openim/bin"), openimBinDir, 0o755); err != nil {
		return nil, err
	}
	if err := openim.tree(filepath.Join(stage, "openim/config"), openimConfDir, 0o644); err != nil {
		return nil, err
	}

	sup := newLayer(epoch, "openim-supervisor and its config")
	if err := sup.copy(filepath.Join(stage, "bin/openim-supervisor"), supervisorPath, 0o755); err != nil {
		return nil, err
	}
	if err := sup.copy(filepath.Join(stage, "etc/config.yaml"), supervisorConf, 0o644); err != nil {
		return nil, err
	}
	env, err := os.ReadFile(envFile)
	if err != nil {
		return nil, fmt.Errorf("env file (-env): %w", err)
	}
	sup.file(supervisorEnv, 0o640, 0, imageGID, env)

	img := empty.Image
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for i, l := range []*layerBuilder{base, openim, sup} {
		f := filepath.Join(tmp, fmt.Sprintf("layer%d.tar", i))
		if err := l.write(f); err != nil {
			return nil, err
		}
		layer, err := tarball.LayerFromFile(f, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, err
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
			Created: v1.Time{Time: epoch}, CreatedBy: "openim-image: " + l.what, Comment: "deploy/image"}}); err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", imageUID, imageGID),
		Entrypoint: []string{supervisorPath},
		Cmd:        []string{"run", "--config", supervisorConf},
		Env: []string{
			"PATH=/usr/bin:/bin",
			"OPENIM_SUPERVISOR_CONFIG=" + supervisorConf,
		},
		WorkingDir:   "/var/lib/openim",
		ExposedPorts: map[string]struct{}{"10001/tcp": {}, "10002/tcp": {}},
		StopSignal:   "SIGTERM",
		Labels: map[string]string{
			"org.opencontainers.image.title":       "openim-server",
			"org.opencontainers.image.description": "OpenIM server under openim-supervisor",
			"org.opencontainers.image.source":      "https://github.com/openim-supervisor/openim-supervisor",
			"org.opencontainers.image.licenses":    "Apache-2.0",
		},
	}
	return mutate.ConfigFile(img, cf)
}

// layerBuilder collects one layer's entries and writes them sorted, with
// fixed owners and times, so the layer's digest depends only on content.
type layerBuilder struct {
	what    string
	epoch   time.Time
	entries map[string]entry
}

type entry struct {
	hdr  tar.Header
	data []byte // small files
	src  string // or a file copied at write time
}

func newLayer(epoch time.Time, what string) *layerBuilder {
	return &layerBuilder{what: what, epoch: epoch, entries: map[string]entry{}}
}

func (l *layerBuilder) parents(p string) {
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		if _, ok := l.entries[d]; !ok {
			l.dir(d, 0o755, 0, 0)
		}
	}
}

func (l *layerBuilder) dir(p string, mode int64, uid, gid int) {
	l.parents(p)
	l.entries[p] = entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/",
		Mode: mode, Uid: uid, Gid: gid, ModTime: l.epoch}}
}

func (l *layerBuilder) file(p string, mode int64, uid, gid int, data []byte) {
	l.parents(p)
	l.entries[p] = entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"),
		Mode: mode, Uid: uid, Gid: gid, Size: int64(len(data)), ModTime: l.epoch}, data: data}
}

func (l *layerBuilder) copy(src, dst string, mode int64) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	l.parents(dst)
	l.entries[dst] = entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dst, "/"),
		Mode: mode, Size: st.Size(), ModTime: l.epoch}, src: src}
	return nil
}

// tree copies the regular files directly in dir to dst with mode.
func (l *layerBuilder) tree(dir, dst string, mode int64) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	l.dir(dst, 0o755, 0, 0)
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if err := l.copy(filepath.Join(dir, e.Name()), path.Join(dst, e.Name()), mode); err != nil {
			return err
		}
	}
	return nil
}

func (l *layerBuilder) hostFile(p string, mode int64) error {
	if _, err := os.Stat(p); os.IsNotExist(err) {
		return nil
	}
	return l.copy(p, p, mode)
}

// hostTree copies a directory of the build machine (files and symlinks).
func (l *layerBuilder) hostTree(root string) error {
	if _, err := os.Stat(root); os.IsNotExist(err) {
		return nil
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			l.dir(p, 0o755, 0, 0)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			l.parents(p)
			l.entries[p] = entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(p, "/"),
				Linkname: target, Mode: 0o777, ModTime: l.epoch}}
		case d.Type().IsRegular():
			return l.copy(p, p, 0o644)
		}
		return nil
	})
}

func (l *layerBuilder) write(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	names := make([]string, 0, len(l.entries))
	for n := range l.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tar.NewWriter(f)
	for _, n := range names {
		e := l.entries[n]
		h := e.hdr
		h.Format = tar.FormatPAX
		h.Uname, h.Gname = "", ""
		if err := tw.WriteHeader(&h); err != nil {
			return fmt.Errorf("layer %s: %w", n, err)
		}
		switch {
		case e.src != "":
			if err := copyFile(tw, e.src, h.Size); err != nil {
				return err
			}
		case e.data != nil:
			if _, err := tw.Write(e.data); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func copyFile(w io.Writer, src string, size int64) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if n != size {
		return fmt.Errorf("copy %s: size changed while building (%d, was %d)", src, n, size)
	}
	return nil
}
