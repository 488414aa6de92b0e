package upgrade

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// State is our own record of the data version, kept in
// <stateDir>/upgrade/state.json. It is the first source of truth for the
// installed data version; OpenIM's Mongo markers come second, --from third.
type State struct {
	// DataVersion is the OpenIM version the data is at: every step up to it
	// is done. Steps newer than it that are already done are listed in Done.
	DataVersion string `json:"data_version"`
	// Done lists the IDs of steps done since DataVersion was last raised.
	Done []string `json:"done,omitempty"`
	// Dirty is the step that started and has not finished (killed or
	// failed): golang-migrate's dirty flag. Our steps resume, so a dirty
	// step is run again, not refused; the plan says so.
	Dirty string `json:"dirty,omitempty"`
	// Backups lists backup directories made by upgrades.
	Backups []string `json:"backups,omitempty"`
	// History is one entry per step attempt, oldest first.
	History []Record `json:"history,omitempty"`
}

// Record is one attempt of one step.
type Record struct {
	Step    string            `json:"step"`
	Version string            `json:"version"`
	Start   time.Time         `json:"start"`
	End     time.Time         `json:"end"`
	Result  string            `json:"result"` // done, already-applied, failed
	Error   string            `json:"error,omitempty"`
	Counts  migrations.Counts `json:"counts,omitempty"`
	Host    string            `json:"host,omitempty"`
	PID     int               `json:"pid,omitempty"`
}

// Results of a step attempt.
const (
	ResultDone    = "done"
	ResultApplied = "already-applied"
	ResultFailed  = "failed"
)

// stateDir is <stateDir>/upgrade.
func upgradeDir(stateDir string) string { return filepath.Join(stateDir, "upgrade") }

// StatePath is the state record's path.
func StatePath(stateDir string) string { return filepath.Join(upgradeDir(stateDir), "state.json") }

// LoadState reads the state record; ok is false when there is none.
func LoadState(stateDir string) (st *State, ok bool, err error) {
	p := StatePath(stateDir)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return &State{}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", p, err)
	}
	st = &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, false, fmt.Errorf("parse %s: %w (move it away to start over)", p, err)
	}
	return st, true, nil
}

// Save writes the record atomically (temp file, fsync, rename).
func (s *State) Save(stateDir string) error {
	dir := upgradeDir(stateDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	p := StatePath(stateDir)
	f, err := os.CreateTemp(dir, ".state-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

func (s *State) isDone(id string) bool { return slices.Contains(s.Done, id) }

func (s *State) markDone(id string) {
	if !s.isDone(id) {
		s.Done = append(s.Done, id)
	}
	if s.Dirty == id {
		s.Dirty = ""
	}
}
