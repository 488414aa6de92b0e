package upgrade

import (
	"bytes"
	"context"
	"log/slog"
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
	if got := stepIDs(res.Plan.Steps); got != "3.8.0/seq-indexes,3.8.0/redis-seq-to-mongo" {
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
