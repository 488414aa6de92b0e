package upgrade

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// TestGateLooksAtTheData: without a state record, run's gate reads the
// databases OpenIM's config names: OpenIM 3.7 seqs still in Redis, or OpenIM
// 3.4 data in MongoDB, refuse with `openim-supervisor upgrade`; empty
// databases pass and record the version, so the next start reads only the
// record; unreachable databases are an error after GateWait, not a pass.
func TestGateLooksAtTheData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var told []time.Duration // what OnGateWait was given, per gate call
	gate := func(s *servers, dir string) (string, error) {
		state := t.TempDir()
		err := Check(ctx, Options{OpenIMVersion: "3.8.3", StateDir: state, OpenIMConfigDir: dir, GateWait: 3 * time.Second,
			OnGateWait: func(d time.Duration) { told = append(told, d) }})
		return state, err
	}

	// OpenIM 3.7: seqs in Redis, no seq marker.
	s := newServers(t, false, true)
	dir := s.openimDir(t, false)
	s.redis.Set(ctx, "HAS_READ_SEQ:u1:si_u1_u2", 7, 0)
	state, err := gate(s, dir)
	if !errors.Is(err, ErrPending) || !strings.Contains(err.Error(), "openim-supervisor upgrade") ||
		!strings.Contains(err.Error(), "HAS_READ_SEQ:u1:si_u1_u2") {
		t.Errorf("3.7 data: %v", err)
	}
	if _, err := os.Stat(StatePath(state)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("3.7 data: the gate recorded a version")
	}

	// The same, after the seq move (OpenIM's marker): the 3.8.3 steps are
	// still pending.
	if _, err := s.mongo.Collection("data_version").InsertOne(ctx, bson.M{"key": "seq", "value": "38"}); err != nil {
		t.Fatal(err)
	}
	if _, err := gate(s, dir); !errors.Is(err, ErrPending) || !strings.Contains(err.Error(), "3.8.3/log-app-framework") {
		t.Errorf("seq marker: %v", err)
	}

	// OpenIM 3.4: messages in MongoDB, users in MySQL.
	s34 := newServers(t, false, true)
	if _, err := s34.mongo.Collection("msg").InsertOne(ctx, bson.M{"doc_id": "si_a_b:0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := gate(s34, s34.openimDir(t, false)); !errors.Is(err, ErrPending) || !strings.Contains(err.Error(), "OpenIM 3.4") {
		t.Errorf("3.4 data: %v", err)
	}

	// Empty databases: passes and records the binary's version.
	fresh := newServers(t, false, true)
	fdir := fresh.openimDir(t, false)
	state, err = gate(fresh, fdir)
	if err != nil {
		t.Fatalf("fresh: %v", err)
	}
	st, ok, err := LoadState(state)
	if err != nil || !ok || st.DataVersion != "3.8.3" {
		t.Errorf("fresh: state %+v %v %v", st, ok, err)
	}
	// Each of the 4 probes told its wait first (run extends systemd's start
	// timeout by it); a start that a state record answers waits for nothing.
	if len(told) != 4 || told[0] != 3*time.Second {
		t.Errorf("OnGateWait calls %v, want 4 x 3s", told)
	}
	told = nil
	if err := Check(ctx, Options{OpenIMVersion: "3.8.3", StateDir: state, OpenIMConfigDir: fdir,
		OnGateWait: func(d time.Duration) { told = append(told, d) }}); err != nil || len(told) != 0 {
		t.Errorf("with a state record: %v, OnGateWait calls %v, want none", err, told)
	}

	// Unreachable: an error (not a refusal), naming the way out.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "mongodb.yml"), []byte("uri: mongodb://127.0.0.1:1/\ndatabase: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	_, err = gate(nil, bad)
	var re *RefusedError
	if err == nil || errors.As(err, &re) || errors.Is(err, ErrPending) || !strings.Contains(err.Error(), "start MongoDB and Redis") {
		t.Errorf("unreachable: %v", err)
	}
	if time.Since(t0) > 40*time.Second {
		t.Errorf("unreachable: took %s with GateWait 3s", time.Since(t0))
	}

	// No mongodb.yml: nothing OpenIM could start on; passes without a record.
	state, err = gate(nil, t.TempDir())
	if err != nil {
		t.Errorf("not configured: %v", err)
	}
	if _, err := os.Stat(StatePath(state)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("not configured: the gate recorded a version")
	}
}
