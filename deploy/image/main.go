// Command openim-image builds the openim-server container image without a
// container daemon, from the stage directory scripts/packages.sh leaves
// (<dist>/stage/linux_<arch>/: bin/openim-supervisor, openim/bin/*,
// openim/config/*, etc/config.yaml), with go-containerregistry as a library.
//
//	openim-image build -stage DIR [-stage DIR2] -tag REF -oci DIR [-tar FILE]
//	openim-image unpack -oci DIR [-platform linux/amd64] -rootfs DIR
//	openim-image inspect -oci DIR [-platform linux/amd64]
//
// The image: three layers (base files, OpenIM, the supervisor), user
// 65532:65532 (openim), entrypoint /usr/bin/openim-supervisor, command
// `run --config /etc/openim/config.yaml`. Timestamps come from
// SOURCE_DATE_EPOCH (default 0), so the same inputs give the same digest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "openim-image:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage:
  openim-image build -stage DIR [-stage DIR ...] -tag REF -oci DIR [-tar FILE]
  openim-image unpack -oci DIR [-platform linux/amd64] -rootfs DIR
  openim-image inspect -oci DIR [-platform linux/amd64]`

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var stages multi
	fs.Var(&stages, "stage", "stage dir of one linux target (dist/stage/linux_<arch>); repeat for a multi-arch index")
	tag := fs.String("tag", "openim-server:dev", "image reference recorded in the tarball and the OCI index")
	oci := fs.String("oci", "", "OCI image layout directory (written by build, read by unpack/inspect)")
	tarOut := fs.String("tar", "", "also write a docker-archive tarball (single platform)")
	platform := fs.String("platform", "linux/amd64", "platform to unpack or inspect")
	rootfs := fs.String("rootfs", "", "directory to unpack the image's file system into")
	envFile := fs.String("env", "packaging/openim.env", "the supervisor's env file, installed as /etc/openim/openim.env")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{fmt.Sprintf("%s: %v\n%s", args[0], err, usage)}
	}
	if *oci == "" {
		return usageError{args[0] + ": -oci is required\n" + usage}
	}
	switch args[0] {
	case "build":
		if len(stages) == 0 {
			return usageError{"build: give at least one -stage\n" + usage}
		}
		epoch, err := sourceDateEpoch()
		if err != nil {
			return err
		}
		return build(ctx, buildOptions{Stages: stages, Tag: *tag, OCI: *oci, Tar: *tarOut, Epoch: epoch, EnvFile: *envFile}, stdout)
	case "unpack":
		if *rootfs == "" {
			return usageError{"unpack: -rootfs is required\n" + usage}
		}
		return unpack(*oci, *platform, *rootfs)
	case "inspect":
		return inspect(*oci, *platform, stdout)
	default:
		return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
	}
}
