package upgrade

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// LogPath is where Run appends its log by default.
func LogPath(stateDir string) string { return filepath.Join(upgradeDir(stateDir), "upgrade.log") }

// openLog opens the log file (append) and routes everything printed and
// logged from now on there too, starting with a header that says what runs
// where (never a password: connections are named by where they come from).
func (u *Upgrader) openLog() error {
	if u.o.LogFile == "-" || u.o.LogFile == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(u.o.LogFile), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(u.o.LogFile), err)
	}
	f, err := os.OpenFile(u.o.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("open upgrade log: %w", err)
	}
	u.logf = f
	fh := slog.NewTextHandler(f, nil)
	u.flog = slog.New(fh)
	u.log = slog.New(slog.NewMultiHandler(u.o.Log.Handler(), fh))
	u.out = io.MultiWriter(u.o.Out, f)
	u.env.Log = u.log
	host, _ := os.Hostname()
	who := "?"
	if cu, err := user.Current(); err == nil {
		who = cu.Username
	}
	fmt.Fprintf(f, "\n===== upgrade %s host=%s pid=%d user=%s\n", time.Now().UTC().Format(time.RFC3339), host, os.Getpid(), who)
	fmt.Fprintf(f, "binary ships OpenIM %s; target %s; --from %q; state %s; OpenIM config %s; old config %q\n",
		u.binary, u.to, u.o.From, u.o.StateDir, u.o.OpenIMConfigDir, u.o.OldConfig)
	fmt.Fprintf(f, "connections: %s; time zone %s; batch %d; backup %v; steps known: %s\n",
		u.conns.describe(), u.o.Zone, u.o.BatchSize, !u.o.SkipBackup, stepList(u))
	return nil
}

func stepList(u *Upgrader) string {
	ids := make([]string, len(u.steps))
	for i, s := range u.steps {
		ids[i] = s.ID()
	}
	return strings.Join(ids, ",")
}

// progressLog is where progress lines go: the file alone when bars are
// drawn on a terminal, else the log (stderr and the file).
func (u *Upgrader) progressLog() *slog.Logger {
	if u.o.Terminal {
		return u.flog
	}
	return u.log
}

// logOutcome ends the run's section of the log file with its result.
func (u *Upgrader) logOutcome(res *Result, err error) {
	if u.logf == nil {
		return
	}
	switch {
	case err == nil && res != nil && res.Nothing:
		u.flog.Info("upgrade finished: nothing to do")
	case err == nil:
		u.flog.Info("upgrade finished", "data_version", u.to.String())
	default:
		var re *RefusedError
		level := "failed"
		if errors.As(err, &re) || errors.Is(err, ErrNeedConfirm) {
			level = "refused"
		}
		fmt.Fprintf(u.logf, "upgrade %s: %v\n", level, err)
	}
}
