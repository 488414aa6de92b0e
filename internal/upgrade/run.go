package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	version "github.com/hashicorp/go-version"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// Options drive one upgrade run. The CLI fills them from flags and the
// supervisor config.
type Options struct {
	// OpenIMVersion is the version this binary ships (buildinfo).
	OpenIMVersion string
	// From is the installed version the package manager passes (optional).
	From string
	// To is the target (default OpenIMVersion).
	To string
	// PlanOnly prints the plan and changes nothing.
	PlanOnly bool
	// Yes runs without asking.
	Yes bool
	// Interactive: stdin is a terminal, so we may ask.
	Interactive bool
	// SkipBackup skips the backup (the operator has a snapshot).
	SkipBackup bool
	// ExpireSource expires copied Redis keys (3.8.0).
	ExpireSource bool
	ExpireAfter  time.Duration

	StateDir        string
	OpenIMConfigDir string
	// OldConfig is OpenIM 3.4's config.yaml (its mysql: section); default
	// <OpenIMConfigDir>/config.yaml when that file exists.
	OldConfig string
	// MySQLDSN overrides the old config (flag or OPENIM_MYSQL_DSN).
	MySQLDSN string
	// MongoURI/MongoDatabase/RedisAddr override mongodb.yml/redis.yml (tests).
	MongoURI      string
	MongoDatabase string
	RedisAddr     string
	// Env holds IMENV_ overrides from the supervisor's env file.
	Env map[string]string

	Zone      *time.Location
	BatchSize int
	S3Engine  string

	LockTimeout time.Duration
	LeaseTTL    time.Duration

	// Steps replaces the registry (tests); nil means migrations.All().
	Steps []migrations.Step

	In       io.Reader // answers to the confirmation prompt
	Out      io.Writer // plan, progress, summary
	Log      *slog.Logger
	Terminal bool // Out is a terminal: draw progress bars
	// Pause is handed to steps (kill tests widen the window between batches).
	Pause func()
}

// Result is the outcome of Run.
type Result struct {
	Plan    *Plan
	Records []Record
	Backup  string
	Nothing bool // nothing to do
}

func (o *Options) defaults() {
	if o.Zone == nil {
		o.Zone = time.UTC
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 10 * time.Minute
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.ExpireAfter <= 0 {
		o.ExpireAfter = 24 * time.Hour
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Steps == nil {
		o.Steps = migrations.All()
	}
	if o.OldConfig == "" && o.OpenIMConfigDir != "" {
		p := filepath.Join(o.OpenIMConfigDir, "config.yaml")
		if _, err := os.Stat(p); err == nil {
			o.OldConfig = p
		}
	}
}

// LogPath is where Run appends its log.
func LogPath(stateDir string) string { return filepath.Join(upgradeDir(stateDir), "upgrade.log") }

// Run detects, plans and (unless PlanOnly) runs the upgrade.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	if err := migrations.Validate(o.Steps); err != nil {
		return nil, fmt.Errorf("migrations registry: %w", err)
	}
	c := &conns{o: &o}
	defer c.close()
	env := &migrations.Env{
		Mongo: c.mongo, MySQL: c.mysql, Redis: c.redis,
		StateDir: o.StateDir, ReportDir: upgradeDir(o.StateDir),
		Zone: o.Zone, S3Engine: o.S3Engine, ExpireSource: o.ExpireSource, ExpireAfter: o.ExpireAfter,
		BatchSize: o.BatchSize, Log: o.Log, Pause: o.Pause,
	}
	if env.S3Engine == "" {
		env.S3Engine = c.s3Engine()
	}

	plan, err := makePlan(ctx, &o, env)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: plan}
	if o.PlanOnly {
		estimate(ctx, plan, env)
		printPlan(o.Out, plan)
		return res, nil
	}
	if len(plan.Steps) == 0 {
		if err := recordVersion(o.StateDir, plan.To, plan.From); err != nil {
			return res, err
		}
		fmt.Fprintf(o.Out, "Nothing to do: the data is at OpenIM %s (%s), target %s.\n", plan.From, plan.FromSource, plan.To)
		res.Nothing = true
		return res, nil
	}
	printPlan(o.Out, plan)
	if !o.Yes {
		if !o.Interactive {
			return res, ErrNeedConfirm
		}
		if !confirm(o.In, o.Out) {
			return res, &RefusedError{Msg: "not confirmed"}
		}
	}

	// Host lock, then re-read: a run that held the lock may have done it all.
	fl, err := hostLock(ctx, o.StateDir, o.LockTimeout)
	if err != nil {
		return res, err
	}
	defer func() { _ = fl.Unlock() }()
	if plan, err = makePlan(ctx, &o, env); err != nil {
		return res, err
	}
	res.Plan = plan

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if plan.Needs().Has(migrations.Mongo) {
		db, err := c.mongo(ctx)
		if err != nil {
			return res, &StepError{Step: plan.Steps[0].ID(), Err: err, Log: LogPath(o.StateDir), Rerun: rerun(&o)}
		}
		l, err := acquireLease(ctx, db, o.LeaseTTL, o.LockTimeout,
			func(holder string) {
				o.Log.Info("waiting for the upgrade lease held by another host", "holder", holder)
			},
			func(err error) { cancel(err) })
		if err != nil {
			return res, err
		}
		defer func() { _ = l.release(context.WithoutCancel(ctx)) }()
	}
	return res, execute(runCtx, &o, env, plan, res)
}

func (c *conns) s3Engine() string {
	if c.o.OldConfig != "" {
		if oc, err := readOldConfig(c.o.OldConfig); err == nil && oc.Object.Enable != "" {
			return oc.Object.Enable
		}
	}
	return "minio"
}

// makePlan finds the data version and the pending steps.
func makePlan(ctx context.Context, o *Options, env *migrations.Env) (*Plan, error) {
	binary, err := ParseVersion(o.OpenIMVersion)
	if err != nil {
		return nil, fmt.Errorf("binary's OpenIM version: %w", err)
	}
	to := binary
	if o.To != "" {
		if to, err = ParseVersion(o.To); err != nil {
			return nil, &RefusedError{Msg: fmt.Sprintf("--to: %v", err)}
		}
	}
	if err := checkTarget(to, binary); err != nil {
		return nil, err
	}
	st, ok, err := LoadState(o.StateDir)
	if err != nil {
		return nil, err
	}
	p := &Plan{To: to, Zone: o.Zone, Estimates: map[string]string{}}
	switch {
	case ok && st.DataVersion != "":
		if p.From, err = ParseVersion(st.DataVersion); err != nil {
			return nil, fmt.Errorf("%s: %w", StatePath(o.StateDir), err)
		}
		p.FromSource = SourceState
	case o.From != "":
		if p.From, err = ParseVersion(o.From); err != nil {
			return nil, &RefusedError{Msg: fmt.Sprintf("--from: %v", err)}
		}
		p.FromSource = SourceFlag
	default:
		v, err := markerVersion(ctx, env)
		if err != nil {
			return nil, &RefusedError{Msg: fmt.Sprintf("cannot tell which OpenIM version the data is at "+
				"(no state record in %s, no --from, and OpenIM's markers could not be read: %v); pass --from VERSION", o.StateDir, err)}
		}
		if v == nil {
			return nil, &RefusedError{Msg: fmt.Sprintf("cannot tell which OpenIM version the data is at "+
				"(no state record in %s, no --from, no OpenIM markers in MongoDB); pass --from VERSION (e.g. --from 3.4.2)", o.StateDir)}
		}
		p.From, p.FromSource = v, SourceMarkers
	}
	if err := checkSource(p.From, to, binary, p.FromSource); err != nil {
		return nil, err
	}
	p.Steps = pending(o.Steps, p.From, to, st)
	return p, nil
}

// markerVersion reads OpenIM's markers: seq 38 means 3.8.0, dataver 35 means
// 3.5.0; nil when there are none.
func markerVersion(ctx context.Context, env *migrations.Env) (*version.Version, error) {
	db, err := env.Mongo(ctx)
	if err != nil {
		return nil, err
	}
	v38, err := migrations.ReadMarker(ctx, db, migrations.Marker38Collection, migrations.Marker38Key)
	if err != nil {
		return nil, err
	}
	if v38 >= migrations.Marker38Value {
		return mustVersion("3.8.0"), nil
	}
	v35, err := migrations.ReadMarker(ctx, db, migrations.Marker35Collection, migrations.Marker35Key)
	if err != nil {
		return nil, err
	}
	if v35 >= migrations.Marker35Value {
		return mustVersion("3.5.0"), nil
	}
	return nil, nil
}

func recordVersion(stateDir string, to, from *version.Version) error {
	st, _, err := LoadState(stateDir)
	if err != nil {
		return err
	}
	if st.DataVersion != "" {
		if cur, err := ParseVersion(st.DataVersion); err == nil && !cur.LessThan(to) {
			return nil
		}
	}
	if from != nil && from.GreaterThan(to) {
		return nil
	}
	st.DataVersion = to.String()
	st.Done = nil
	return st.Save(stateDir)
}

func rerun(o *Options) string {
	return "openim-supervisor upgrade --yes" + map[bool]string{true: " --skip-backup", false: ""}[o.SkipBackup]
}

// execute runs the plan's steps under the locks.
func execute(ctx context.Context, o *Options, env *migrations.Env, plan *Plan, res *Result) error {
	if len(plan.Steps) == 0 {
		fmt.Fprintf(o.Out, "Nothing to do: another upgrade finished the work (data at OpenIM %s).\n", plan.From)
		res.Nothing = true
		return recordVersion(o.StateDir, plan.To, plan.From)
	}
	st, _, err := LoadState(o.StateDir)
	if err != nil {
		return err
	}
	if st.DataVersion == "" {
		st.DataVersion = plan.From.String()
		if err := st.Save(o.StateDir); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	fail := func(s migrations.Step, rec Record, err error) error {
		rec.End, rec.Result, rec.Error = time.Now().UTC(), ResultFailed, err.Error()
		st.History = append(st.History, rec)
		res.Records = append(res.Records, rec)
		serr := st.Save(o.StateDir)
		printSummary(o.Out, res)
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
		return errors.Join(&StepError{Step: s.ID(), Err: err, Log: LogPath(o.StateDir), Rerun: rerun(o)}, serr)
	}

	// Backup before the first step that writes.
	var colls []string
	writes := false
	for _, s := range plan.Steps {
		if s.Writes {
			writes = true
			colls = append(colls, s.Collections...)
		}
	}
	if writes && !o.SkipBackup {
		o.Log.Info("backing up", "collections", strings.Join(colls, ","))
		dir, err := backup(ctx, o, env.Mongo, colls)
		if err != nil {
			return &StepError{Step: "backup", Err: fmt.Errorf("%w (pass --skip-backup if you have your own snapshot)", err),
				Log: LogPath(o.StateDir), Rerun: rerun(o)}
		}
		res.Backup = dir
		env.ReportDir = dir
		st.Backups = append(st.Backups, dir)
		fmt.Fprintf(o.Out, "Backup: %s\n", dir)
	}

	prog := newProgress(o.Out, o.Terminal, o.Log)
	env.Progress = prog.update
	for _, s := range plan.Steps {
		rec := Record{Step: s.ID(), Version: s.Version, Start: time.Now().UTC(), Host: host, PID: os.Getpid()}
		o.Log.Info("step start", "step", s.ID(), "needs", s.Needs.String())
		if s.Applied != nil {
			done, err := s.Applied(ctx, env)
			if err != nil {
				return fail(s, rec, fmt.Errorf("check whether applied: %w", err))
			}
			if done {
				rec.End, rec.Result = time.Now().UTC(), ResultApplied
				o.Log.Info("step already applied (OpenIM marker or another host)", "step", s.ID())
				st.markDone(s.ID())
				st.History = append(st.History, rec)
				res.Records = append(res.Records, rec)
				if err := st.Save(o.StateDir); err != nil {
					return err
				}
				continue
			}
		}
		counts, err := s.Run(ctx, env)
		prog.finish()
		rec.Counts = counts
		if err != nil {
			return fail(s, rec, err)
		}
		if s.Verify != nil {
			counts, err = s.Verify(ctx, env, counts)
			rec.Counts = counts
			if err != nil {
				return fail(s, rec, err)
			}
		}
		if s.Mark != nil {
			if err := s.Mark(ctx, env); err != nil {
				return fail(s, rec, err)
			}
		}
		rec.End, rec.Result = time.Now().UTC(), ResultDone
		st.markDone(s.ID())
		st.History = append(st.History, rec)
		res.Records = append(res.Records, rec)
		if err := st.Save(o.StateDir); err != nil {
			return err
		}
		o.Log.Info("step done", "step", s.ID(), "took", rec.End.Sub(rec.Start).Round(time.Millisecond))
	}
	st.DataVersion = plan.To.String()
	st.Done = nil
	if err := st.Save(o.StateDir); err != nil {
		return err
	}
	printSummary(o.Out, res)
	return nil
}
