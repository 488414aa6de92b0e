package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Record identifies a started child well enough to find what is left of it
// after the supervisor died hard, and to tell it from an unrelated process
// that got the same pid later. It is written to children.json (for the next
// start) and sent to the Guardian (for the moment the supervisor dies).
type Record struct {
	ID        string `json:"id"`             // "name:index" or "tool:name"
	PID       int    `json:"pid"`            // the child, leader of its process group
	PGID      int    `json:"pgid"`           // its process group (= PID)
	SID       int    `json:"sid,omitempty"`  // its session (the supervisor's)
	StartTime uint64 `json:"startTime"`      // clock ticks after boot (/proc/PID/stat)
	Exe       string `json:"exe,omitempty"`  // the executable it runs (/proc/PID/exe)
	Boot      string `json:"boot,omitempty"` // boot id: start times mean nothing after a reboot
}

// RecordsFile is the file name under the state dir.
const RecordsFile = "children.json"

// WriteRecords atomically replaces path with recs (mode 0600).
func WriteRecords(path string, recs []Record) error {
	if recs == nil {
		recs = []Record{}
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, ".children-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, 0o600)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadRecords reads path; a missing file is no records.
func ReadRecords(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var recs []Record
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return recs, nil
}

// Leftover is a process KillLeftovers killed.
type Leftover struct {
	Record Record // the child it belonged to
	PID    int
	Leader bool // the child itself, not a member of its group
}
