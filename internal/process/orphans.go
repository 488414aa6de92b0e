package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Record identifies a running child in children.json: enough to kill its
// group after the supervisor died hard, and to tell a recycled pid apart.
type Record struct {
	ID        string `json:"id"`   // "name:index" or "tool:name"
	PID       int    `json:"pid"`  // leader
	PGID      int    `json:"pgid"` // its process group
	StartTime uint64 `json:"startTime"`
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

// KillLeftovers SIGKILLs the process group of every record whose pid still
// runs with the recorded start time (a recycled pid is left alone). It
// returns the records it killed. Without a way to read start times (outside
// Linux) nothing is killed.
func KillLeftovers(recs []Record) (killed []Record, err error) {
	var errs []error
	for _, r := range recs {
		if r.PID <= 1 || r.PGID <= 1 || r.StartTime == 0 {
			continue
		}
		st, err := StartTicks(r.PID)
		if err != nil || st != r.StartTime {
			continue // gone, or a different process now
		}
		if err := killRecord(r); err != nil {
			errs = append(errs, fmt.Errorf("kill leftover %s (pid %d): %w", r.ID, r.PID, err))
			continue
		}
		killed = append(killed, r)
	}
	return killed, errors.Join(errs...)
}
