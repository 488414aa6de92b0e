package upgrade

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

func testLog(t *testing.T, buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func findOne(t *testing.T, s *servers, coll string, filter bson.M) bson.M {
	t.Helper()
	var doc bson.M
	if err := s.mongo.Collection(coll).FindOne(context.Background(), filter).Decode(&doc); err != nil {
		t.Fatalf("find %s %v: %v", coll, filter, err)
	}
	return doc
}

// TestSeqMigration: 3.7 -> 3.8.3 copies the four Redis prefixes into seq and
// seq_user, only where Mongo is lower, keeps the keys, writes the marker.
func TestSeqMigration(t *testing.T) {
	t.Parallel()
	s := newServers(t, false, true)
	ctx := context.Background()
	keys := map[string]int64{
		"MAX_SEQ:si_u1_u2":              120,
		"MIN_SEQ:si_u1_u2":              5,
		"MAX_SEQ:sg_g1":                 900,
		"HAS_READ_SEQ:u1:si_u1_u2":      110,
		"HAS_READ_SEQ:u2:sg_g1":         800,
		"CON_USER_MIN_SEQ:sg_g1u:u2":    30,
		"CON_USER_MIN_SEQ:si_u1_u2u:u1": 2,
		"MAX_SEQ:sg_newer_in_mongo":     10,
	}
	for k, v := range keys {
		if err := s.redis.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s.redis.Set(ctx, "OTHER:key", "x", 0)
	// Mongo already has a higher max_seq for one conversation (OpenIM 3.8 ran).
	if _, err := s.mongo.Collection("seq").InsertOne(ctx, bson.M{"conversation_id": "sg_newer_in_mongo", "max_seq": int64(50), "min_seq": int64(0)}); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	var out, logs bytes.Buffer
	o := Options{OpenIMVersion: "3.8.3", From: "3.7.1", Yes: true, StateDir: state,
		OpenIMConfigDir: s.openimDir(t, false), Out: &out, Log: testLog(t, &logs), BatchSize: 3}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("upgrade: %v\n%s\n%s", err, out.String(), logs.String())
	}
	if got := ids(res.Plan.Steps); got != "3.8.0/indexes,3.8.0/redis-seq-to-mongo,3.8.3/indexes,3.8.3/log-app-framework" {
		t.Fatalf("plan %s", got)
	}
	seq := func(conv string) bson.M { return findOne(t, s, "seq", bson.M{"conversation_id": conv}) }
	su := func(user, conv string) bson.M {
		return findOne(t, s, "seq_user", bson.M{"user_id": user, "conversation_id": conv})
	}
	check := func(doc bson.M, field string, want int64) {
		t.Helper()
		if got, _ := doc[field].(int64); got != want {
			t.Errorf("%v: %s = %v (%T), want %d", doc["conversation_id"], field, doc[field], doc[field], want)
		}
	}
	check(seq("si_u1_u2"), "max_seq", 120)
	check(seq("si_u1_u2"), "min_seq", 5)
	check(seq("sg_g1"), "max_seq", 900)
	check(seq("sg_g1"), "min_seq", 0)
	check(seq("sg_newer_in_mongo"), "max_seq", 50) // not lowered
	check(su("u1", "si_u1_u2"), "read_seq", 110)
	check(su("u1", "si_u1_u2"), "min_seq", 2)
	check(su("u2", "sg_g1"), "read_seq", 800)
	check(su("u2", "sg_g1"), "min_seq", 30)
	check(su("u2", "sg_g1"), "max_seq", 0)
	if n, _ := s.mongo.Collection("seq").CountDocuments(ctx, bson.D{}); n != 3 {
		t.Errorf("seq has %d documents, want 3", n)
	}
	if n, _ := s.mongo.Collection("seq_user").CountDocuments(ctx, bson.D{}); n != 2 {
		t.Errorf("seq_user has %d documents, want 2", n)
	}
	if v, err := migrations.ReadMarker(ctx, s.mongo, "data_version", "seq"); err != nil || v != 38 {
		t.Errorf("marker data_version{seq} = %d, %v; want 38", v, err)
	}
	// Keys kept (no --expire-source).
	if ttl := s.redis.TTL(ctx, "MAX_SEQ:si_u1_u2").Val(); ttl != -1 {
		t.Errorf("key got a TTL %v without --expire-source", ttl)
	}
	if !strings.Contains(out.String(), "Summary:") || !strings.Contains(out.String(), "MAX_SEQ:*") {
		t.Errorf("no summary table:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Backup:") {
		t.Errorf("no backup before the writing step:\n%s", out.String())
	}
	st, _, _ := LoadState(state)
	if st.DataVersion != "3.8.3" {
		t.Errorf("state data version %s", st.DataVersion)
	}
	// Re-run: nothing to do.
	out.Reset()
	if res, err := Run(ctx, o); err != nil || !res.Nothing {
		t.Errorf("re-run: %v nothing=%v\n%s", err, res != nil && res.Nothing, out.String())
	}

	// A second host (own state dir) with --expire-source finds the marker:
	// the step is already applied and nothing is expired.
	o2 := o
	o2.StateDir, o2.ExpireSource = t.TempDir(), true
	res, err = Run(ctx, o2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Records {
		if r.Result != ResultApplied {
			t.Errorf("second host: %s %s, want already-applied", r.Step, r.Result)
		}
	}

	// --expire-source on a fresh database: keys get a TTL.
	s2 := newServers(t, false, true)
	s2.redis.Set(ctx, "MAX_SEQ:c", 7, 0)
	o3 := Options{OpenIMVersion: "3.8.3", From: "3.7.1", Yes: true, StateDir: t.TempDir(), SkipBackup: true,
		OpenIMConfigDir: s2.openimDir(t, false), ExpireSource: true, ExpireAfter: time.Hour}
	if _, err := Run(ctx, o3); err != nil {
		t.Fatal(err)
	}
	if ttl := s2.redis.TTL(ctx, "MAX_SEQ:c").Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("--expire-source: TTL %v", ttl)
	}
}

// TestSeqIntoEmptyCollections: with seq and seq_user empty at the start,
// documents get key-derived ObjectIDs and every field of OpenIM's model; keys
// OpenIM cannot place are reported, not dropped silently; a value that is
// not Redis's afterwards fails the verification, naming the key.
func TestSeqIntoEmptyCollections(t *testing.T) {
	t.Parallel()
	s := newServers(t, false, true)
	ctx := context.Background()
	for k, v := range map[string]int64{
		"MAX_SEQ:si_a_b": 40, "MIN_SEQ:si_a_b": 4, "HAS_READ_SEQ:a:si_a_b": 39, "CON_USER_MIN_SEQ:si_a_bu:b": 7,
		"HAS_READ_SEQ:nocolon": 3, "MAX_SEQ:neg": -1,
	} {
		if err := s.redis.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var out, logs bytes.Buffer
	o := Options{OpenIMVersion: "3.8.3", From: "3.7.1", To: "3.8.0", Yes: true, StateDir: t.TempDir(),
		OpenIMConfigDir: s.openimDir(t, false), Out: &out, Log: testLog(t, &logs), BatchSize: 2}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("upgrade: %v\n%s\n%s", err, out.String(), logs.String())
	}
	var doc bson.Raw
	if err := s.mongo.Collection("seq_user").FindOne(ctx, bson.M{"user_id": "b"}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Lookup("_id").Type != bson.TypeObjectID || doc.Lookup("read_seq").Int64() != 0 || doc.Lookup("min_seq").Int64() != 7 ||
		doc.Lookup("max_seq").Int64() != 0 {
		t.Errorf("seq_user b: %s", doc)
	}
	if n := countLines(t, filepath.Join(res.Backup, "conflicts-3.8.0-seq.jsonl")); n != 2 {
		t.Errorf("%d unplaceable keys reported, want 2", n)
	}
	var conflicts int64
	for _, r := range res.Records {
		for _, c := range r.Counts {
			conflicts += c.Conflicts
		}
	}
	if conflicts != 2 {
		t.Errorf("summary counts %d unplaceable keys, want 2", conflicts)
	}
	// Tamper and verify again (marker and state gone: the step runs again,
	// its inserts find the documents, and the verification compares).
	if _, err := s.mongo.Collection("seq").UpdateOne(ctx, bson.M{"conversation_id": "si_a_b"}, bson.M{"$set": bson.M{"max_seq": int64(41)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.mongo.Collection("data_version").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	o.StateDir, o.SkipBackup = t.TempDir(), true
	_, err = Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "MAX_SEQ:si_a_b: seq.max_seq=41, Redis 40") {
		t.Errorf("tampered max_seq: %v", err)
	}
}

// TestSeqStepAtScale: 300 conversations (1,200 keys, the second key family
// of each document an update) at the shipped batch size, into empty
// collections and into collections OpenIM already wrote to. On FerretDB a
// command of ~100 updates never returns and holds the database's writer
// (the lease renewal then fails and the step is cancelled), so this fails,
// by its deadline, if the step sends updates in larger commands (one batch
// holds all 300 keys of a family). The count is kept small because the
// FerretDB stand-in applies an update in 20-50 ms on a loaded CI machine
// (2,000 conversations took over 3 minutes there); MongoDB applies a bulk of
// them in one round trip.
func TestSeqStepAtScale(t *testing.T) {
	t.Parallel()
	const n = 300
	for _, foreign := range []bool{false, true} {
		s := newServers(t, false, true)
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		pipe := s.redis.Pipeline()
		for i := 0; i < n; i++ {
			c := fmt.Sprintf("si_u%d_u%d", i, i+1)
			pipe.Set(ctx, "MAX_SEQ:"+c, 100+i, 0)
			pipe.Set(ctx, "MIN_SEQ:"+c, 1+i%7, 0)
			pipe.Set(ctx, fmt.Sprintf("HAS_READ_SEQ:u%d:%s", i, c), 50+i, 0)
			pipe.Set(ctx, fmt.Sprintf("CON_USER_MIN_SEQ:%su:u%d", c, i), 2+i%5, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if foreign { // OpenIM 3.8 ran before the upgrade
			if _, err := s.mongo.Collection("seq").InsertOne(ctx, bson.M{"conversation_id": "si_u0_u1", "max_seq": int64(500), "min_seq": int64(0)}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.mongo.Collection("seq_user").InsertOne(ctx, bson.M{"user_id": "x", "conversation_id": "sg_x",
				"min_seq": int64(0), "max_seq": int64(0), "read_seq": int64(3)}); err != nil {
				t.Fatal(err)
			}
		}
		var out, logs bytes.Buffer
		o := Options{OpenIMVersion: "3.8.3", From: "3.7.1", To: "3.8.0", Yes: true, StateDir: t.TempDir(), SkipBackup: true,
			OpenIMConfigDir: s.openimDir(t, false), Out: &out, Log: testLog(t, &logs)}
		t0 := time.Now()
		if _, err := Run(ctx, o); err != nil {
			t.Fatalf("foreign=%v: %v\n%s\n%s", foreign, err, out.String(), logs.String())
		}
		took := time.Since(t0)
		if got := findOne(t, s, "seq", bson.M{"conversation_id": "si_u299_u300"}); got["max_seq"] != int64(100+n-1) || got["min_seq"] != int64(1+(n-1)%7) {
			t.Errorf("foreign=%v: seq of si_u299_u300: %v", foreign, got)
		}
		if foreign {
			if got := findOne(t, s, "seq", bson.M{"conversation_id": "si_u0_u1"}); got["max_seq"] != int64(500) || got["min_seq"] != int64(1) {
				t.Errorf("seq of si_u0_u1 (OpenIM's document): %v", got)
			}
		}
		if got, _ := s.mongo.Collection("seq").CountDocuments(ctx, bson.D{}); got != n {
			t.Errorf("foreign=%v: %d seq documents, want %d", foreign, got, n)
		}
		t.Logf("foreign=%v: %d keys in %s", foreign, 4*n, took.Round(time.Millisecond))
	}
}
