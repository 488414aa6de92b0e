package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	version "github.com/hashicorp/go-version"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// Upgrader takes an installation's data from the version it is at to the
// target: golang-migrate's Migrate, with the steps from Sources (read-only),
// our state record and locks as the driver (driver.go), and the
// connections the steps need opened on first use.
type Upgrader struct {
	o      Options
	steps  []migrations.Step
	binary *version.Version
	to     *version.Version
	conns  *conns
	env    *migrations.Env

	out  io.Writer    // Out, and the log file during Run
	log  *slog.Logger // Log, and the log file during Run
	flog *slog.Logger // the log file alone (progress lines on a terminal)
	logf *os.File
}

// Result is the outcome of Run.
type Result struct {
	Plan    *Plan
	Records []Record
	Backup  string
	Nothing bool // nothing to do
	// StoppedOpenIM: Run stopped OpenIM through the supervisor; it stays
	// stopped.
	StoppedOpenIM bool
}

// New checks the options, applies the defaults and joins the sources. It
// opens nothing: connections open when a step or the plan first needs them.
func New(o Options) (*Upgrader, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	steps, err := migrations.Join(o.Sources...)
	if err != nil {
		return nil, fmt.Errorf("migration steps: %w", err)
	}
	binary, err := ParseVersion(o.OpenIMVersion)
	if err != nil {
		return nil, fmt.Errorf("binary's OpenIM version: %w", err)
	}
	to, err := ParseVersion(o.To)
	if err != nil {
		return nil, &RefusedError{Msg: fmt.Sprintf("--to: %v", err)}
	}
	if err := checkTarget(to, binary); err != nil {
		return nil, err
	}
	u := &Upgrader{o: o, steps: steps, binary: binary, to: to, out: o.Out, log: o.Log, flog: slog.New(slog.DiscardHandler)}
	u.conns = &conns{o: &u.o}
	reportDir := o.StateDir
	if reportDir != "" {
		reportDir = upgradeDir(reportDir)
	} else {
		reportDir = os.TempDir()
	}
	u.env = &migrations.Env{
		Mongo: u.conns.mongo, MySQL: u.conns.mysql, Redis: u.conns.redis,
		StateDir: o.StateDir, OpenIMConfigDir: o.OpenIMConfigDir, OldConfig: o.OldConfig,
		ReportDir: reportDir, Zone: o.Zone, S3Engine: o.S3Engine,
		ExpireSource: o.ExpireSource, ExpireAfter: o.ExpireAfter,
		BatchSize: o.BatchSize, Log: o.Log, Pause: o.Pause,
	}
	if u.env.S3Engine == "" {
		u.env.S3Engine = u.conns.s3Engine()
	}
	return u, u.env.Validate()
}

// Close closes the connections and the log file.
func (u *Upgrader) Close() error {
	u.conns.close()
	if u.logf != nil {
		err := u.logf.Close()
		u.logf = nil
		return err
	}
	return nil
}

// Run is New, Upgrader.Run and Close.
func Run(ctx context.Context, o Options) (*Result, error) {
	u, err := New(o)
	if err != nil {
		return nil, err
	}
	defer u.Close()
	return u.Run(ctx)
}

// Plan returns what Run would do now. It reads the state record and, when
// that does not tell, OpenIM's markers; it changes nothing.
func (u *Upgrader) Plan(ctx context.Context) (*Plan, error) {
	st := &State{}
	if u.o.StateDir != "" {
		var err error
		if st, _, err = LoadState(u.o.StateDir); err != nil {
			return nil, err
		}
	}
	return u.plan(ctx, st)
}

func (u *Upgrader) plan(ctx context.Context, st *State) (*Plan, error) {
	from, src, err := detect(ctx, st, &u.o, u.env)
	if err != nil {
		return nil, err
	}
	if err := checkSource(from, u.to, u.binary, src); err != nil {
		return nil, err
	}
	return &Plan{From: from, FromSource: src, To: u.to, Zone: u.o.Zone, Estimates: map[string]string{},
		Steps: pending(u.steps, from, u.to, st), Dirty: st.Dirty}, nil
}

// Run detects, plans and (unless PlanOnly) runs the upgrade: confirm, make
// sure OpenIM is not running, lock, back up, run and verify each step,
// record. Everything it prints, and every milestone, also goes to the log
// file.
func (u *Upgrader) Run(ctx context.Context) (res *Result, err error) {
	if u.o.PlanOnly {
		p, err := u.Plan(ctx)
		if err != nil {
			return nil, err
		}
		estimate(ctx, p, u.env)
		printPlan(u.out, p)
		return &Result{Plan: p}, nil
	}
	if err := u.openLog(); err != nil {
		return nil, err
	}
	defer func() { u.logOutcome(res, err) }()

	p, err := u.Plan(ctx)
	if err != nil {
		return nil, err
	}
	res = &Result{Plan: p}
	if len(p.Steps) == 0 {
		return res, u.nothingToDo(ctx, res)
	}
	printPlan(u.out, p)
	if !u.o.Yes {
		if !u.o.Interactive {
			return res, ErrNeedConfirm
		}
		if !confirm(u.o.In, u.out, "Run this plan?") {
			return res, &RefusedError{Msg: "not confirmed"}
		}
	}
	if res.StoppedOpenIM, err = u.coordinate(ctx); err != nil {
		return res, err
	}

	d := &driver{stateDir: u.o.StateDir, wait: u.o.LockTimeout, ttl: u.o.LeaseTTL, log: u.log}
	st, err := d.lockHost(ctx)
	if err != nil {
		return res, err
	}
	defer d.unlock(context.WithoutCancel(ctx))
	// Re-plan from the record as loaded under the lock: a run that held it
	// may have done the work.
	if p, err = u.plan(ctx, st); err != nil {
		return res, err
	}
	res.Plan = p
	if len(p.Steps) == 0 {
		fmt.Fprintf(u.out, "Nothing to do: another upgrade finished the work (data at OpenIM %s).\n", p.From)
		res.Nothing = true
		return res, d.recordVersion(u.to, p.From)
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if needs(p.Steps).Has(migrations.Mongo) {
		db, err := u.conns.mongo(ctx)
		if err != nil {
			return res, &StepError{Step: p.Steps[0].ID(), Err: err, Log: u.o.LogFile, Rerun: u.rerun()}
		}
		if err := d.lockCluster(ctx, db, func(err error) { cancel(err) }); err != nil {
			return res, err
		}
	}
	return res, u.execute(runCtx, d, p, res)
}

// nothingToDo records the target version (under the host lock) and says so.
func (u *Upgrader) nothingToDo(ctx context.Context, res *Result) error {
	d := &driver{stateDir: u.o.StateDir, wait: u.o.LockTimeout, log: u.log}
	if _, err := d.lockHost(ctx); err != nil {
		return err
	}
	defer d.unlock(context.WithoutCancel(ctx))
	if err := d.recordVersion(u.to, res.Plan.From); err != nil {
		return err
	}
	fmt.Fprintf(u.out, "Nothing to do: the data is at OpenIM %s (%s), target %s.\n", res.Plan.From, res.Plan.FromSource, res.Plan.To)
	res.Nothing = true
	return nil
}

func (u *Upgrader) rerun() string {
	s := "openim-supervisor upgrade --yes"
	if u.o.SkipBackup {
		s += " --skip-backup"
	}
	return s
}

func needs(steps []migrations.Step) migrations.Backend {
	var b migrations.Backend
	for _, s := range steps {
		b |= s.Needs
	}
	return b
}

// execute runs the plan's steps under the locks.
func (u *Upgrader) execute(ctx context.Context, d *driver, plan *Plan, res *Result) error {
	st := d.st
	if st.DataVersion == "" {
		st.DataVersion = plan.From.String()
		if err := d.save(); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	fail := func(s migrations.Step, rec Record, err error) error {
		rec.End, rec.Result, rec.Error = time.Now().UTC(), ResultFailed, err.Error()
		st.History = append(st.History, rec)
		res.Records = append(res.Records, rec)
		serr := d.save()
		printSummary(u.out, res)
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
		return errors.Join(&StepError{Step: s.ID(), Err: err, Log: u.o.LogFile, Rerun: u.rerun()}, serr)
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
	if writes && !u.o.SkipBackup {
		u.log.Info("backing up", "collections", strings.Join(colls, ","))
		dir, err := backup(ctx, &u.o, u.env.Mongo, colls)
		if err != nil {
			return &StepError{Step: "backup", Err: fmt.Errorf("%w (pass --skip-backup if you have your own snapshot)", err),
				Log: u.o.LogFile, Rerun: u.rerun()}
		}
		res.Backup = dir
		u.env.ReportDir = dir
		st.Backups = append(st.Backups, dir)
		fmt.Fprintf(u.out, "Backup: %s\n", dir)
	}

	prog := newProgress(u.o.Out, u.o.Terminal, u.progressLog())
	u.env.Progress = prog.update
	u.env.Log = u.log
	for _, s := range plan.Steps {
		rec := Record{Step: s.ID(), Version: s.Version, Start: time.Now().UTC(), Host: host, PID: os.Getpid()}
		u.log.Info("step start", "step", s.ID(), "kind", s.Kind, "needs", s.Needs.String())
		done, err := applied(ctx, s, u.env)
		if err != nil {
			return fail(s, rec, err)
		}
		if done {
			rec.End, rec.Result = time.Now().UTC(), ResultApplied
			u.log.Info("step already applied (OpenIM marker or another host)", "step", s.ID())
			st.markDone(s.ID())
			st.History = append(st.History, rec)
			res.Records = append(res.Records, rec)
			if err := d.save(); err != nil {
				return err
			}
			continue
		}
		if err := d.setDirty(s.ID()); err != nil {
			return err
		}
		counts, err := s.Run(ctx, u.env)
		prog.finish()
		rec.Counts = counts
		if err != nil {
			return fail(s, rec, err)
		}
		if s.Verify != nil {
			u.log.Info("verifying", "step", s.ID())
			counts, err = s.Verify(ctx, u.env, counts)
			rec.Counts = counts
			if err != nil {
				return fail(s, rec, fmt.Errorf("verify: %w", err))
			}
		}
		if s.Mark != nil {
			if err := s.Mark(ctx, u.env); err != nil {
				return fail(s, rec, err)
			}
		}
		rec.End, rec.Result = time.Now().UTC(), ResultDone
		st.markDone(s.ID())
		st.History = append(st.History, rec)
		res.Records = append(res.Records, rec)
		if err := d.save(); err != nil {
			return err
		}
		u.log.Info("step done", "step", s.ID(), "took", rec.End.Sub(rec.Start).Round(time.Millisecond))
	}
	st.DataVersion = plan.To.String()
	st.Done = nil
	if err := d.save(); err != nil {
		return err
	}
	printSummary(u.out, res)
	return nil
}
