package logs

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/coreos/go-systemd/v22/journal"
)

// JournalSink sends lines to the systemd journal with the fields
// OPENIM_PROCESS, OPENIM_INSTANCE and SYSLOG_IDENTIFIER, so that
// `journalctl -u openim-server OPENIM_PROCESS=openim-push` works; stderr
// lines get priority err, stdout lines info.
type JournalSink struct {
	onErr  func(error)
	sent   func(string, journalPriority, map[string]string) error
	mu     sync.Mutex
	failed bool                         // an error was reported; report again only after a success
	fields map[string]map[string]string // per instance, built once
}

// JournalEnabled reports whether the journal socket is reachable.
func JournalEnabled() bool { return journal.Enabled() }

// NewJournalSink returns a journal sink; onErr (may be nil) is told about
// send errors.
func NewJournalSink(onErr func(error)) *JournalSink {
	return &JournalSink{onErr: onErr, sent: journal.Send}
}

// Write sends one line.
func (j *JournalSink) Write(l Line) {
	pri := journal.PriInfo
	if l.Stream == Stderr {
		pri = journal.PriErr
	}
	j.mu.Lock()
	id := l.ID()
	fields := j.fields[id]
	if fields == nil {
		if j.fields == nil {
			j.fields = map[string]map[string]string{}
		}
		fields = JournalFields(l)
		j.fields[id] = fields
	}
	j.mu.Unlock()
	err := j.sent(l.Text, pri, fields)
	j.mu.Lock()
	report := err != nil && !j.failed && j.onErr != nil
	j.failed = err != nil
	j.mu.Unlock()
	if report {
		j.onErr(fmt.Errorf("send to journal: %w", err))
	}
}

// JournalFields are the journal fields of a line besides MESSAGE and PRIORITY.
func JournalFields(l Line) map[string]string {
	return map[string]string{
		"OPENIM_PROCESS":    l.Process,
		"OPENIM_INSTANCE":   strconv.Itoa(l.Index),
		"SYSLOG_IDENTIFIER": l.Process,
	}
}

type journalPriority = journal.Priority
