package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/openim-supervisor/openim-supervisor/internal/control"
)

// printJSON writes v as indented JSON: the output of every read command's --json.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// fancy reports whether w is a terminal that takes cursor control (a
// progress bar): not a pipe or file, not TERM=dumb. Nothing in this CLI
// uses colour, so NO_COLOR needs no other handling; it also turns the bar
// off, for users who set it to get plain output everywhere.
func fancy(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	return !noColor
}

// progressPrinter shows the steps of start, stop, restart and signal on w:
// on a terminal a bar redrawn in place under the finished steps, otherwise
// one plain line when a step begins and one when it ends.
type progressPrinter struct {
	w     io.Writer
	bar   bool
	now   func() time.Time
	began time.Time
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	return &progressPrinter{w: w, bar: fancy(w), now: time.Now}
}

var opVerbs = map[string][2]string{ // op -> (doing, done)
	control.OpStart:   {"starting", "ready"},
	control.OpStop:    {"stopping", "stopped"},
	control.OpRestart: {"restarting", "ready"},
	control.OpSignal:  {"signalling", "signalled"},
}

func (p *progressPrinter) step(ev control.Progress) {
	verbs, ok := opVerbs[ev.Op]
	if !ok {
		verbs = [2]string{ev.Op, "done"}
	}
	if p.began.IsZero() {
		p.began = p.now()
	}
	width := len(fmt.Sprint(ev.Total))
	head := fmt.Sprintf("[%*d/%d] %s", width, ev.Step, ev.Total, ev.Target)
	var line string
	switch {
	case !ev.Done:
		line = head + ": " + verbs[0]
	case ev.Error != "":
		line = head + ": FAILED after " + roundDur(ev.Took) + ": " + ev.Error
	default:
		line = head + ": " + verbs[1] + " (" + roundDur(ev.Took) + ")"
	}
	if !p.bar {
		fmt.Fprintln(p.w, line)
		return
	}
	// Terminal: finished steps stay as lines; the bar is redrawn below them.
	fmt.Fprint(p.w, "\r\x1b[K")
	if ev.Done {
		fmt.Fprintln(p.w, line)
	}
	done := ev.Step - 1
	if ev.Done {
		done = ev.Step
	}
	const cells = 30
	fill := cells * done / max(ev.Total, 1)
	bar := strings.Repeat("#", fill) + strings.Repeat("-", cells-fill)
	status := verbs[0] + " " + ev.Target
	if done == ev.Total {
		status = "done"
	}
	fmt.Fprintf(p.w, "[%s] %d/%d %s, %s elapsed", bar, done, ev.Total, status, roundDur(p.now().Sub(p.began)))
	if done == ev.Total || ev.Error != "" {
		fmt.Fprintln(p.w)
	}
}

func roundDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}
