package upgrade

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// estimate fills plan.Estimates; failures are shown, not fatal.
func estimate(ctx context.Context, p *Plan, env *migrations.Env) {
	for _, s := range p.Steps {
		if s.Estimate == nil {
			continue
		}
		ectx, cancel := context.WithTimeout(ctx, 20*time.Second)
		e, err := s.Estimate(ectx, env)
		cancel()
		if err != nil {
			e = "no estimate: " + err.Error()
		}
		p.Estimates[s.ID()] = e
	}
}

func printPlan(w io.Writer, p *Plan) {
	fmt.Fprintf(w, "Data version: OpenIM %s (from %s); target: OpenIM %s\n", p.From, p.FromSource, p.To)
	if len(p.Steps) == 0 {
		fmt.Fprintln(w, "Plan: nothing to do.")
		return
	}
	for _, s := range p.Steps {
		if s.Needs.Has(migrations.MySQL) {
			fmt.Fprintf(w, "MySQL DATETIME values are read in time zone %s.\n", p.Zone)
			break
		}
	}
	fmt.Fprintf(w, "Plan (%d steps, in order):\n", len(p.Steps))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tSTEP\tKIND\tNEEDS\tDESCRIPTION")
	for i, s := range p.Steps {
		desc := s.Description
		if e, ok := p.Estimates[s.ID()]; ok {
			desc += " [" + e + "]"
		}
		if s.ID() == p.Dirty {
			desc += " (an earlier run did not finish it: it resumes)"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", i+1, s.ID(), s.Kind, s.Needs, desc)
	}
	_ = tw.Flush()
}

func confirm(in io.Reader, out io.Writer, question string) bool {
	if in == nil {
		return false
	}
	fmt.Fprint(out, question+" [y/N] ")
	line, _ := bufio.NewReader(in).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// printSummary prints one row per table of every step attempted.
func printSummary(w io.Writer, r *Result) {
	if len(r.Records) == 0 {
		return
	}
	fmt.Fprintln(w, "Summary:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tRESULT\tTABLE\tTARGET\tSOURCE\tWRITTEN\tIN TARGET\tCONFLICTS\tEXTRA\tNOT NEWER\tTOOK")
	for _, rec := range r.Records {
		took := rec.End.Sub(rec.Start).Round(time.Millisecond)
		if len(rec.Counts) == 0 {
			fmt.Fprintf(tw, "  %s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n", rec.Step, rec.Result, took)
			continue
		}
		for i, c := range rec.Counts {
			step, res, tk := rec.Step, rec.Result, took.String()
			if i > 0 {
				step, res, tk = "", "", ""
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", step, res, c.Table, c.Target,
				c.Source, c.Written, c.InTarget, c.Conflicts, c.Extra, c.Skipped, tk)
		}
	}
	_ = tw.Flush()
	if r.Backup != "" {
		fmt.Fprintf(w, "Backup and conflict reports: %s\n", r.Backup)
	}
}

// progress draws a bar on a terminal, or logs one line per 10% (or per
// table when the total is unknown) otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	log      *slog.Logger
	table    string
	lastPct  int64
	lastLog  time.Time
	drawn    bool
}

func newProgress(w io.Writer, terminal bool, log *slog.Logger) *progress {
	return &progress{w: w, terminal: terminal, log: log}
}

func (p *progress) update(table string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if table != p.table {
		p.endLine()
		p.table, p.lastPct = table, -1
	}
	if p.terminal {
		if total > 0 {
			pct := done * 100 / total
			bar := strings.Repeat("=", int(pct/4)) + strings.Repeat(" ", 25-int(pct/4))
			fmt.Fprintf(p.w, "\r  %-22s [%s] %3d%% %d/%d", table, bar, pct, done, total)
		} else {
			fmt.Fprintf(p.w, "\r  %-22s %d", table, done)
		}
		p.drawn = true
		return
	}
	if total > 0 {
		pct := done * 100 / total
		if pct/10 != p.lastPct/10 || done == total {
			p.lastPct = pct
			p.log.Info("progress", "table", table, "done", done, "total", total, "percent", pct)
		}
		return
	}
	if time.Since(p.lastLog) > 5*time.Second {
		p.lastLog = time.Now()
		p.log.Info("progress", "table", table, "done", done)
	}
}

func (p *progress) endLine() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
	p.table = ""
}
