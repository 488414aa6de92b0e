package upgrade

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/openim-supervisor/openim-supervisor/internal/upgrade/upgradetest"
)

// TestNastyDataset: OpenIM 3.4 data with NULLs, zero dates, the epoch,
// exact duplicates, case-variant ids, maximum-length values and a
// 5,000-member group, plus 3.7 seqs, upgraded to 3.8.3 in Asia/Shanghai:
// the verification (every document as OpenIM's model, checksums of every
// field against MySQL, the seq checksum) passes, and the counts add up.
func TestNastyDataset(t *testing.T) {
	t.Parallel()
	s := newServers(t, true, true)
	ctx := context.Background()
	convs, err := upgradetest.Seed(ctx, s.mysqlDB)
	if err != nil {
		t.Fatal(err)
	}
	seqs, read, err := upgradetest.SeedRedis(ctx, s.redis, convs)
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation(upgradetest.Zone)
	var logs bytes.Buffer
	o := Options{OpenIMVersion: "3.8.3", From: "3.4.0", Yes: true, StateDir: t.TempDir(), Zone: zone, BatchSize: 700,
		OpenIMConfigDir: s.openimDir(t, true), Out: &logs, Log: testLog(t, &logs)}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("upgrade: %v\n%s", err, logs.String())
	}
	got := map[string]int64{}
	conflicts := map[string]int64{}
	for _, r := range res.Records {
		for _, c := range r.Counts {
			got[c.Target] = c.InTarget
			conflicts[c.Table] = c.Conflicts
		}
	}
	want := map[string]int64{"user": 8 + upgradetest.OwnerFriends + upgradetest.BigGroupMembers,
		"group_member": upgradetest.BigGroupMembers + 3, "meeting_record": 7, "friend": 2*upgradetest.OwnerFriends + 3,
		"signal": 1, "signal_invitation": 2}
	for coll, n := range want {
		if got[coll] != n {
			t.Errorf("%s: %d documents, want %d", coll, got[coll], n)
		}
	}
	if conflicts["signal"] != 1 || conflicts["signal_invitation"] != 1 || conflicts["meeting_video_record"] != 0 {
		t.Errorf("conflicts %v", conflicts)
	}
	if n, _ := s.mongo.Collection("seq").CountDocuments(ctx, bson.D{}); n != int64(len(seqs)) {
		t.Errorf("seq: %d documents, want %d", n, len(seqs))
	}
	if n, _ := s.mongo.Collection("seq_user").CountDocuments(ctx, bson.D{}); n != int64(len(read)) {
		t.Errorf("seq_user: %d documents, want %d", n, len(read))
	}
	// The three case variants are three users.
	for _, id := range []string{"alice", "Alice", "ALICE"} {
		if n, _ := s.mongo.Collection("user").CountDocuments(ctx, bson.M{"user_id": id}); n != 1 {
			t.Errorf("user %q: %d documents", id, n)
		}
	}
}
