package upgrade

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

var epoch = time.Unix(0, 0).UTC()

func ts(s string, zone *time.Location) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05.000", s, zone)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// docs returns a collection's documents without _id, sorted by the given keys.
func docs(t *testing.T, s *servers, coll string, sort ...string) []bson.M {
	t.Helper()
	so := bson.D{}
	for _, k := range sort {
		so = append(so, bson.E{Key: k, Value: 1})
	}
	cur, err := s.mongo.Collection(coll).Find(context.Background(), bson.D{},
		options.Find().SetSort(so).SetProjection(bson.M{"_id": 0}))
	if err != nil {
		t.Fatal(err)
	}
	var out []bson.M
	if err := cur.All(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	for _, d := range out {
		for k, v := range d {
			if dt, ok := v.(primitive.DateTime); ok {
				d[k] = dt.Time().UTC()
			}
		}
	}
	return out
}

func sameDoc(t *testing.T, coll string, got, want bson.M) {
	t.Helper()
	for k, wv := range want {
		gv, ok := got[k]
		if !ok {
			t.Errorf("%s: field %s missing in %v", coll, k, got)
			continue
		}
		if wt, ok := wv.(time.Time); ok {
			if gt, ok := gv.(time.Time); !ok || !gt.Equal(wt) {
				t.Errorf("%s: %s = %v, want %v", coll, k, gv, wt)
			}
			continue
		}
		if gv != wv {
			t.Errorf("%s: %s = %#v, want %#v", coll, k, gv, wv)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected field %s = %v", coll, k, got[k])
		}
	}
}

func setup35(t *testing.T) (*servers, Options, *bytes.Buffer) {
	s := newServers(t, true, false)
	s.loadSQL(t, "testdata/openim34.sql")
	s.loadSQL(t, "testdata/seed34.sql")
	var logs bytes.Buffer
	return s, Options{OpenIMVersion: "3.8.3", From: "3.4.2", To: "3.5.0", Yes: true, StateDir: t.TempDir(),
		OpenIMConfigDir: s.openimDir(t, true), Out: &logs, Log: testLog(t, &logs), BatchSize: 2}, &logs
}

// TestMySQLToMongo checks every migrated field on a seeded OpenIM 3.4 dataset.
func TestMySQLToMongo(t *testing.T) {
	t.Parallel()
	s, o, logs := setup35(t)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	o.Zone = sh
	ctx := context.Background()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("upgrade: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "time zone Asia/Shanghai") {
		t.Errorf("plan does not name the zone")
	}
	u := docs(t, s, "user", "user_id")
	if len(u) != 3 {
		t.Fatalf("user: %d docs", len(u))
	}
	sameDoc(t, "user", u[0], bson.M{"user_id": "u1", "nickname": "Alice", "face_url": "http://f/a.png", "ex": `{"a":1}`,
		"create_time": ts("2023-05-01 10:00:00.123", sh), "app_manger_level": int32(1), "global_recv_msg_opt": int32(0)})
	sameDoc(t, "user", u[1], bson.M{"user_id": "u2", "nickname": "Bob", "face_url": "", "ex": "",
		"create_time": epoch, "app_manger_level": int32(2), "global_recv_msg_opt": int32(1)})
	sameDoc(t, "user", u[2], bson.M{"user_id": "u3", "nickname": "Zero", "face_url": "", "ex": "",
		"create_time": epoch, "app_manger_level": int32(1), "global_recv_msg_opt": int32(2)})

	f := docs(t, s, "friend", "owner_user_id")
	sameDoc(t, "friend", f[0], bson.M{"owner_user_id": "u1", "friend_user_id": "u2", "remark": "bobby",
		"create_time": ts("2023-05-02 11:00:00.000", sh), "add_source": int32(3), "operator_user_id": "u1", "ex": "fx", "is_pinned": false})
	fr := docs(t, s, "friend_request", "from_user_id")
	sameDoc(t, "friend_request", fr[0], bson.M{"from_user_id": "u1", "to_user_id": "u3", "handle_result": int32(1), "req_msg": "hi",
		"create_time": ts("2023-05-03 12:00:00.000", sh), "handler_user_id": "u3", "handle_msg": "ok",
		"handle_time": ts("2023-05-03 12:30:00.000", sh), "ex": "frx"})
	sameDoc(t, "friend_request", fr[1], bson.M{"from_user_id": "u3", "to_user_id": "u2", "handle_result": int32(0), "req_msg": "hey",
		"create_time": ts("2023-05-04 00:00:00.000", sh), "handler_user_id": "", "handle_msg": "", "handle_time": epoch, "ex": ""})
	b := docs(t, s, "black")
	sameDoc(t, "black", b[0], bson.M{"owner_user_id": "u2", "block_user_id": "u3", "create_time": ts("2023-05-05 05:05:05.005", sh),
		"add_source": int32(1), "operator_user_id": "u2", "ex": "bx"})
	g := docs(t, s, "group", "group_id")
	sameDoc(t, "group", g[0], bson.M{"group_id": "g1", "group_name": "Group One", "notification": "notice", "introduction": "intro",
		"face_url": "http://f/g.png", "create_time": ts("2023-05-06 06:00:00.000", sh), "ex": "gex", "status": int32(0),
		"creator_user_id": "u1", "group_type": int32(2), "need_verification": int32(1), "look_member_info": int32(0),
		"apply_member_friend": int32(1), "notification_update_time": ts("2023-05-06 07:00:00.000", sh), "notification_user_id": "u1"})
	sameDoc(t, "group", g[1], bson.M{"group_id": "g2", "group_name": "Group Two", "notification": "", "introduction": "",
		"face_url": "", "create_time": epoch, "ex": "", "status": int32(2), "creator_user_id": "u2", "group_type": int32(2),
		"need_verification": int32(0), "look_member_info": int32(1), "apply_member_friend": int32(0),
		"notification_update_time": epoch, "notification_user_id": ""})
	gm := docs(t, s, "group_member", "group_id", "user_id")
	if len(gm) != 3 {
		t.Fatalf("group_member: %d", len(gm))
	}
	sameDoc(t, "group_member", gm[0], bson.M{"group_id": "g1", "user_id": "u1", "nickname": "Ali", "face_url": "http://f/gm.png",
		"role_level": int32(100), "join_time": ts("2023-05-06 06:00:00.000", sh), "join_source": int32(2), "inviter_user_id": "u1",
		"operator_user_id": "u1", "mute_end_time": ts("1970-01-01 00:00:00.000", sh), "ex": "gmx"})
	sameDoc(t, "group_member", gm[1], bson.M{"group_id": "g1", "user_id": "u2", "nickname": "", "face_url": "",
		"role_level": int32(20), "join_time": ts("2023-05-06 06:10:00.000", sh), "join_source": int32(3), "inviter_user_id": "u1",
		"operator_user_id": "u1", "mute_end_time": epoch, "ex": ""})
	gr := docs(t, s, "group_request")
	sameDoc(t, "group_request", gr[0], bson.M{"user_id": "u3", "group_id": "g1", "handle_result": int32(1), "req_msg": "let me in",
		"handled_msg": "welcome", "req_time": ts("2023-05-08 08:00:00.000", sh), "handle_user_id": "u1",
		"handled_time": ts("2023-05-08 09:00:00.000", sh), "join_source": int32(3), "inviter_user_id": "", "ex": "grx"})
	c := docs(t, s, "conversation", "owner_user_id")
	sameDoc(t, "conversation", c[0], bson.M{"owner_user_id": "u1", "conversation_id": "si_u1_u2", "conversation_type": int32(1),
		"user_id": "u2", "group_id": "", "recv_msg_opt": int32(0), "is_pinned": true, "is_private_chat": false,
		"burn_duration": int32(0), "group_at_type": int32(0), "attached_info": "att", "ex": "cx", "max_seq": int64(120),
		"min_seq": int64(5), "create_time": ts("2023-05-09 09:00:00.000", sh), "is_msg_destruct": true,
		"msg_destruct_time": int64(3600), "latest_msg_destruct_time": ts("2023-05-10 00:00:00.000", sh)})
	sameDoc(t, "conversation", c[1], bson.M{"owner_user_id": "u2", "conversation_id": "sg_g1", "conversation_type": int32(3),
		"user_id": "", "group_id": "g1", "recv_msg_opt": int32(2), "is_pinned": false, "is_private_chat": true,
		"burn_duration": int32(30), "group_at_type": int32(1), "attached_info": "", "ex": "", "max_seq": int64(900),
		"min_seq": int64(0), "create_time": epoch, "is_msg_destruct": false,
		"msg_destruct_time": int64(604800), "latest_msg_destruct_time": epoch})
	s3 := docs(t, s, "s3")
	sameDoc(t, "s3", s3[0], bson.M{"name": "obj/a.png", "user_id": "u1", "hash": "h1", "key": "k1", "size": int64(1234),
		"content_type": "image/png", "group": "avatar", "create_time": ts("2023-05-11 11:11:11.111", sh), "engine": "minio"})
	l := docs(t, s, "log")
	sameDoc(t, "log", l[0], bson.M{"log_id": "l1", "platform": "ios", "user_id": "u1", "create_time": ts("2023-05-12 12:00:00.000", sh),
		"url": "http://f/l1.zip", "file_name": "l1.zip", "system_type": "ios", "version": "3.4.2", "ex": "lx"})
	sg := docs(t, s, "signal", "sid")
	if len(sg) != 2 {
		t.Fatalf("signal: %d docs, want 2 (one conflict)", len(sg))
	}
	sameDoc(t, "signal", sg[0], bson.M{"sid": "sid1", "inviter_user_id": "u1", "custom_data": "cd1", "group_id": "g1",
		"room_id": "roomA", "timeout": int32(30), "media_type": "video", "platform_id": int32(1), "session_type": int32(3),
		"initiate_time": ts("2023-05-13 13:00:00.000", sh), "end_time": ts("2023-05-13 13:10:00.000", sh), "file_url": "http://f/r1",
		"title": "t1", "desc": "d1", "ex": "sx1", "ios_push_sound": "ding", "ios_badge_count": true, "signal_info": "info1"})
	si := docs(t, s, "signal_invitation", "user_id")
	if len(si) != 2 {
		t.Fatalf("signal_invitation: %d docs, want 2 (one conflict)", len(si))
	}
	sameDoc(t, "signal_invitation", si[0], bson.M{"sid": "sid1", "user_id": "u2", "status": int32(1),
		"initiate_time": ts("2023-05-13 13:00:00.000", sh), "handle_time": ts("2023-05-13 13:00:05.000", sh)})
	m := docs(t, s, "meeting")
	sameDoc(t, "meeting", m[0], bson.M{"room_id": "room1", "meeting_name": "standup", "host_user_id": "u1", "status": int64(1),
		"start_time": time.Unix(1700000000, 0).UTC(), "end_time": epoch, "create_time": ts("2023-05-15 15:00:00.000", sh), "ex": "mx"})
	mi := docs(t, s, "meeting_invitation", "user_id")
	sameDoc(t, "meeting_invitation", mi[1], bson.M{"room_id": "room1", "user_id": "u3", "create_time": ts("2023-05-15 15:01:00.000", sh)})
	mr := docs(t, s, "meeting_record", "file_url")
	if len(mr) != 3 {
		t.Fatalf("meeting_record: %d docs, want 3 (every row, the exact duplicate too: no unique index)", len(mr))
	}
	sameDoc(t, "meeting_record", mr[2], bson.M{"room_id": "room1", "file_url": "http://f/v2.mp4", "create_time": ts("2023-05-15 17:00:00.000", sh)})
	if n, _ := s.mongo.Collection("chat_logs").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("chat_logs migrated")
	}

	// Conflicts: counted in the summary and written beside the backup.
	conflicts := map[string]int64{}
	for _, r := range res.Records {
		for _, c := range r.Counts {
			conflicts[c.Table] = c.Conflicts
		}
	}
	for table, want := range map[string]int64{"signal": 1, "signal_invitation": 1, "meeting_video_record": 0, "users": 0} {
		if conflicts[table] != want {
			t.Errorf("%s: %d conflicts, want %d", table, conflicts[table], want)
		}
		p := filepath.Join(res.Backup, "conflicts-3.5.0-"+table+".jsonl")
		if n := countLines(t, p); n != want {
			t.Errorf("%s: %d lines, want %d", p, n, want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(res.Backup, "conflicts-3.5.0-signal.jsonl")); !strings.Contains(string(b), "roomB") {
		t.Errorf("signal conflict report does not name the dropped row: %s", b)
	}
	if v, _ := migrations.ReadMarker(ctx, s.mongo, "dataver", "data_version"); v != 35 {
		t.Errorf("dataver marker %d, want 35", v)
	}

	// A replay from scratch (state, marker and checkpoints gone, as after
	// a restore of our state dir) writes nothing twice.
	if _, err := s.mongo.Collection("dataver").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.mongo.Collection(migrations.CheckpointCollection).DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	o.StateDir = t.TempDir()
	o.SkipBackup = true
	if _, err := Run(ctx, o); err != nil {
		t.Fatalf("replay: %v\n%s", err, logs.String())
	}
	if n := len(docs(t, s, "meeting_record")); n != 3 {
		t.Errorf("replay: meeting_record has %d docs, want 3", n)
	}
	if n := len(docs(t, s, "signal")); n != 2 {
		t.Errorf("replay: signal has %d docs", n)
	}
}

func countLines(t *testing.T, p string) int64 {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n
}

// TestAbsentMySQLSection: a 3.4 source without a mysql: section is an error
// that says what to do, and nothing is marked done.
func TestAbsentMySQLSection(t *testing.T) {
	t.Parallel()
	s := newServers(t, true, false)
	dir := s.openimDir(t, false) // config.yaml without mysql:
	state := t.TempDir()
	o := Options{OpenIMVersion: "3.8.3", From: "3.4.2", Yes: true, StateDir: state, OpenIMConfigDir: dir, SkipBackup: true}
	_, err := Run(context.Background(), o)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "3.5.0/mysql-to-mongo" || !strings.Contains(err.Error(), "no mysql: section") {
		t.Fatalf("got %v", err)
	}
	if v, _ := migrations.ReadMarker(context.Background(), s.mongo, "dataver", "data_version"); v != 0 {
		t.Errorf("marker written: %d", v)
	}
	if err := checkState(t, state, "3.8.3"); !errors.Is(err, ErrPending) {
		t.Errorf("Check: %v", err)
	}
	// No old config at all: same, naming --old-config.
	if err := os.Remove(filepath.Join(dir, "config.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), o)
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "--old-config") {
		t.Fatalf("no old config: %v", err)
	}
}

// TestMarkersHonoured: markers written by OpenIM's own tools decide the
// source version when there is no state record, and mark steps as applied.
func TestMarkersHonoured(t *testing.T) {
	t.Parallel()
	s := newServers(t, false, true)
	ctx := context.Background()
	// up35 ran (dataver 35): the source is 3.5.0, the 3.8.0 steps run.
	if _, err := s.mongo.Collection("dataver").InsertOne(ctx, bson.M{"key": "data_version", "value": "35"}); err != nil {
		t.Fatal(err)
	}
	o := Options{OpenIMVersion: "3.8.3", PlanOnly: true, StateDir: t.TempDir(), OpenIMConfigDir: s.openimDir(t, false)}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.FromSource != SourceMarkers || res.Plan.From.String() != "3.5.0" ||
		ids(res.Plan.Steps) != "3.8.0/indexes,3.8.0/redis-seq-to-mongo,3.8.3/indexes,3.8.3/log-app-framework" {
		t.Errorf("with dataver 35: from %s (%s), plan %s", res.Plan.From, res.Plan.FromSource, ids(res.Plan.Steps))
	}
	// --from 3.4.2 given too (package manager), but up35 already ran: the
	// data step is already applied and MySQL is never needed.
	o.PlanOnly, o.Yes, o.From, o.SkipBackup = false, true, "3.4.2", true
	res, err = Run(ctx, o)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	got := map[string]string{}
	for _, r := range res.Records {
		got[r.Step] = r.Result
	}
	if got["3.5.0/mysql-to-mongo"] != ResultApplied || got["3.8.0/redis-seq-to-mongo"] != ResultDone {
		t.Errorf("results %v", got)
	}
	// tools/seq ran too (data_version seq 38): a new host starts from 3.8.0
	// and finds the 3.8.3 steps applied (golang-migrate's version).
	o2 := Options{OpenIMVersion: "3.8.3", Yes: true, StateDir: t.TempDir(), OpenIMConfigDir: o.OpenIMConfigDir}
	res, err = Run(ctx, o2)
	if err != nil || res.Plan.From.String() != "3.8.0" || ids(res.Plan.Steps) != "3.8.3/indexes,3.8.3/log-app-framework" {
		t.Fatalf("with seq 38: %v %+v", err, res)
	}
	for _, r := range res.Records {
		if r.Result != ResultApplied {
			t.Errorf("with seq 38: %s %s, want already-applied", r.Step, r.Result)
		}
	}
}
