package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
	"github.com/openim-supervisor/openim-supervisor/internal/control"
	"github.com/openim-supervisor/openim-supervisor/internal/doctor"
	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

func newDoctorCmd(g *globals) *cobra.Command {
	var f ctlFlags
	var asJSON bool
	var only []string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the installation for OpenIM's common failures; name each cause and fix",
		Long: `Check what OpenIM needs, the way OpenIM 3.8.3 reads its config (IMENV_
overrides from the env file applied), and print for every problem its cause
and its fix:

  config          the supervisor's config loads (keys, binaries, file modes)
  openim-config   OpenIM's config dir: files and keys OpenIM reads
  agreement       instances and ports: against OpenIM's port lists
  secret-files    OpenIM yml files with a password readable by every user
  default-secret  share.yml secret (or a password) still OpenIM's openIM123
  external-address  minio externalAddress left at localhost or external_ip
  mongodb, redis, kafka, etcd, object-storage
                  reachable, credentials accepted, Kafka topics exist
  versions        OpenIM binaries, config dir and data of this version
  open-files      ulimit -n of the OpenIM processes >= 10000
  ports           OpenIM's ports free, or held by their own instance
  disk            free space for logs and upgrade backups
  clock           this machine's clock against MongoDB's and Redis's

Exit status: 0 when nothing failed (warnings allowed), 11 when a check
failed, 3 when --check names no check.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, c := range only {
				if !slices.Contains(doctor.Names(), c) {
					return withCode(ExitUsage, fmt.Errorf("--check %s: no such check (the checks are %s)", c, strings.Join(doctor.Names(), ", ")))
				}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			rep := runDoctor(ctx, g, &f, only)
			if asJSON {
				if err := printJSON(g.stdout, rep); err != nil {
					return err
				}
			} else {
				printDoctor(g.stdout, rep)
			}
			if rep.Failed > 0 {
				return withCode(ExitCheckFailed, fmt.Errorf("doctor: %d check(s) failed", rep.Failed))
			}
			return nil
		},
	}
	f.add(cmd, 3*time.Second)
	cmd.Flags().Lookup("timeout").Usage = "give up on each component after this long"
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the findings as JSON")
	cmd.Flags().StringSliceVar(&only, "check", nil, "run only these checks (repeat or comma-separate)")
	return cmd
}

// doctorEnv gathers what the checks look at: the configs and, when it
// answers, the running supervisor's status.
func doctorEnv(ctx context.Context, g *globals, f *ctlFlags) *doctor.Env {
	e := &doctor.Env{Info: g.info, ConfigPath: g.ConfigPath(), Timeout: f.timeout}
	e.Config, e.ConfigErr = config.Load(e.ConfigPath)
	if e.ConfigErr != nil {
		e.Lenient, _ = config.LoadWith(e.ConfigPath, config.Options{SkipFileChecks: true})
	}
	if cfg := e.Cfg(); cfg != nil {
		d, err := openimconf.Load(cfg.Paths.OpenIMConfigDir, openimconf.Options{Env: cfg.Env})
		e.OpenIM, e.OpenIMErr = d, err
		if err == nil {
			e.Typed, e.OpenIMErr = d.Typed()
			if e.OpenIMErr != nil {
				e.Typed = nil
			}
		}
	}
	quiet := *g
	quiet.stderr = io.Discard
	if sock, err := f.socketPath(&quiet); err == nil {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if st, err := control.NewClient(sock).Status(sctx); err == nil {
			e.Status = st
		}
	}
	return e
}

func runDoctor(ctx context.Context, g *globals, f *ctlFlags, only []string) doctor.Report {
	e := doctorEnv(ctx, g, f)
	checks := doctor.Checks()
	if len(only) > 0 {
		checks = slices.DeleteFunc(checks, func(c doctor.Check) bool { return !slices.Contains(only, c.Name()) })
	}
	return doctor.Run(ctx, e, checks)
}

// printDoctor prints one line per finding (STATUS CHECK SUBJECT: CAUSE) and
// the fix indented under it, then a summary.
func printDoctor(w io.Writer, rep doctor.Report) {
	for _, f := range rep.Findings {
		line := fmt.Sprintf("%-4s  %-16s %s", strings.ToUpper(string(f.Status)), f.Check, f.Subject)
		if f.Cause != "" {
			line += ": " + f.Cause
		}
		fmt.Fprintln(w, line)
		if f.Fix != "" && f.Status != doctor.OK {
			fmt.Fprintln(w, "      fix: "+f.Fix)
		}
	}
	fmt.Fprintf(w, "%d failed, %d warnings, %d findings\n", rep.Failed, rep.Warned, len(rep.Findings))
}
