package upgrade

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// rerunVerify makes the 3.5.0 step pending again (state, marker gone) with
// its copy finished (checkpoints kept), so a run does only the verification.
func rerunVerify(t *testing.T, s *servers, o Options) error {
	t.Helper()
	ctx := context.Background()
	if _, err := s.mongo.Collection("dataver").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	o.StateDir, o.SkipBackup, o.To = t.TempDir(), true, "3.5.0"
	_, err := Run(ctx, o)
	return err
}

// TestNoKeyTableKeepsEveryRow: meeting_video_record has no key in MySQL and
// meeting_record no unique index in OpenIM: every row is a document, exact
// duplicates included; NULL, ” , the zero date and the epoch never collide;
// a kill-free re-run from scratch and a resume write nothing twice; the
// verification passes and counts no conflict.
func TestNoKeyTableKeepsEveryRow(t *testing.T) {
	t.Parallel()
	s, o, logs := setup35(t)
	ctx := context.Background()
	if _, err := s.mysqlDB.Exec("DELETE FROM meeting_video_record"); err != nil {
		t.Fatal(err)
	}
	rows := []string{
		"(NULL, NULL, NULL)", "(NULL, NULL, NULL)",
		"('', '', '0000-00-00 00:00:00')", "('', '', '0000-00-00 00:00:00')",
		"('', '', '1970-01-01 00:00:00')",
		"('', NULL, NULL)", "(NULL, '', NULL)",
		"('room1', 'http://f/v', '2023-05-15 16:00:00.000')", "('room1', 'http://f/v', '2023-05-15 16:00:00.000')",
		"('room1', 'http://f/v', '2023-05-15 16:00:00.000')", "('ROOM1', 'http://f/v', '2023-05-15 16:00:00.000')",
		"('room1 ', 'http://f/v', '2023-05-15 16:00:00.000')",
	}
	for range 3 { // 36 rows, many of them identical
		if _, err := s.mysqlDB.Exec("SET SESSION sql_mode=''; INSERT INTO meeting_video_record VALUES " + strings.Join(rows, ",")); err != nil {
			t.Fatal(err)
		}
	}
	o.To, o.BatchSize = "3.5.0", 5
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("upgrade: %v\n%s", err, logs)
	}
	n, _ := s.mongo.Collection("meeting_record").CountDocuments(ctx, bson.D{})
	if n != 36 {
		t.Fatalf("meeting_record: %d documents, want 36 (every row)", n)
	}
	for _, r := range res.Records {
		for _, c := range r.Counts {
			if c.Table == "meeting_video_record" && (c.Conflicts != 0 || c.InTarget != 36 || c.Source != 36) {
				t.Errorf("meeting_video_record counts %+v", c)
			}
		}
	}
	// Replay from scratch (checkpoints, marker and state gone): same 36.
	if _, err := s.mongo.Collection(migrations.CheckpointCollection).DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if err := rerunVerify(t, s, o); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if n, _ := s.mongo.Collection("meeting_record").CountDocuments(ctx, bson.D{}); n != 36 {
		t.Errorf("replay: %d documents, want 36", n)
	}
	// A resumed stream (checkpoint in the middle of a run of identical
	// rows): the rows after it get the same ObjectIDs, nothing is doubled.
	if _, err := s.mongo.Collection(migrations.CheckpointCollection).UpdateOne(ctx,
		bson.M{"_id": "3.5.0/meeting_video_record"}, bson.M{"$set": bson.M{"done": false, "rows": 7}}); err != nil {
		t.Fatal(err)
	}
	if err := rerunVerify(t, s, o); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if n, _ := s.mongo.Collection("meeting_record").CountDocuments(ctx, bson.D{}); n != 36 {
		t.Errorf("resume: %d documents, want 36", n)
	}
	// A lost document is found and named.
	if _, err := s.mongo.Collection("meeting_record").DeleteOne(ctx, bson.M{"room_id": "ROOM1"}); err != nil {
		t.Fatal(err)
	}
	err = rerunVerify(t, s, o)
	if err == nil || !strings.Contains(err.Error(), "meeting_video_record -> meeting_record: 1 source rows missing") ||
		!strings.Contains(err.Error(), "ROOM1") {
		t.Errorf("lost document: %v", err)
	}
}

// TestVerifyCatchesWrongFields: a wrong field value, a missing field, a
// string _id and a lost row are each caught, named by table, key and field.
func TestVerifyCatchesWrongFields(t *testing.T) {
	t.Parallel()
	s, o, logs := setup35(t)
	ctx := context.Background()
	o.To = "3.5.0"
	if _, err := Run(ctx, o); err != nil {
		t.Fatalf("upgrade: %v\n%s", err, logs)
	}
	if err := rerunVerify(t, s, o); err != nil {
		t.Fatalf("verification of an untouched result: %v", err)
	}
	friends := s.mongo.Collection("friend")
	var orig bson.M
	if err := friends.FindOne(ctx, bson.M{"owner_user_id": "u1"}).Decode(&orig); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		t.Helper()
		if _, err := friends.DeleteMany(ctx, bson.M{"owner_user_id": "u1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := friends.InsertOne(ctx, orig); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		tamper func()
		want   []string
	}{
		{"wrong remark", func() {
			_, _ = friends.UpdateOne(ctx, bson.M{"owner_user_id": "u1"}, bson.M{"$set": bson.M{"remark": "bob"}})
		}, []string{"friends -> friend", `friends(owner_user_id="u1", friend_user_id="u2")`, `remark MySQL "bobby", MongoDB "bob"`}},
		{"time off by the zone", func() {
			ct := orig["create_time"].(primitive.DateTime).Time().Add(8 * time.Hour)
			_, _ = friends.UpdateOne(ctx, bson.M{"owner_user_id": "u1"}, bson.M{"$set": bson.M{"create_time": ct}})
		}, []string{`create_time MySQL "2023-05-02 11:00:00.000000", MongoDB "2023-05-02 19:00:00.000000"`}},
		{"missing is_pinned", func() {
			_, _ = friends.UpdateOne(ctx, bson.M{"owner_user_id": "u1"}, bson.M{"$unset": bson.M{"is_pinned": ""}})
		}, []string{"documents OpenIM cannot read as its model", "field is_pinned missing"}},
		{"string _id", func() {
			d := bson.M{}
			for k, v := range orig {
				d[k] = v
			}
			d["_id"] = "u1\x1fu2"
			_, _ = friends.DeleteMany(ctx, bson.M{"owner_user_id": "u1"})
			_, _ = friends.InsertOne(ctx, d)
		}, []string{"does not decode into OpenIM's *openimmodel.Friend"}},
		{"int64 add_source", func() {
			_, _ = friends.UpdateOne(ctx, bson.M{"owner_user_id": "u1"}, bson.M{"$set": bson.M{"add_source": int64(3)}})
		}, []string{"field add_source is BSON 64-bit integer"}},
		{"lost row", func() {
			_, _ = friends.DeleteMany(ctx, bson.M{"owner_user_id": "u1"})
		}, []string{"1 source rows missing in friend", `friends(owner_user_id="u1", friend_user_id="u2")`}},
	}
	for _, c := range cases {
		c.tamper()
		err := rerunVerify(t, s, o)
		var se *StepError
		if !errors.As(err, &se) {
			t.Errorf("%s: verification passed: %v", c.name, err)
		} else {
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error lacks %q:\n%v", c.name, w, err)
				}
			}
		}
		restore()
	}
	// A document with no source row (written by OpenIM) is kept and reported,
	// not a failure.
	if _, err := friends.InsertOne(ctx, bson.M{"_id": primitive.NewObjectID(), "owner_user_id": "u9", "friend_user_id": "u1",
		"remark": "", "create_time": time.Now(), "add_source": int32(1), "operator_user_id": "", "ex": "", "is_pinned": true}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o.Out = &out
	if err := rerunVerify(t, s, o); err != nil {
		t.Fatalf("extra document: %v", err)
	}
	if !strings.Contains(out.String(), "EXTRA") {
		t.Errorf("summary has no EXTRA column:\n%s", out.String())
	}
}

// TestObjectIDs: every document's _id is an ObjectID whose time is the
// row's create time, so OpenIM 3.8's friend order {is_pinned: -1, _id: 1}
// is the order friends were added; ids are the same on every run.
func TestObjectIDs(t *testing.T) {
	t.Parallel()
	s, o, logs := setup35(t)
	ctx := context.Background()
	if _, err := s.mysqlDB.Exec(`INSERT INTO friends VALUES ('u3','u1','',"2023-06-01 10:00:00.500",1,'',''),
		('u3','u2','',"2023-06-01 10:00:00.100",1,'',''), ('u3','u0','',"2023-07-01 00:00:00",1,'','')`); err != nil {
		t.Fatal(err)
	}
	o.To, o.Zone = "3.5.0", time.UTC
	if _, err := Run(ctx, o); err != nil {
		t.Fatalf("upgrade: %v\n%s", err, logs)
	}
	cur, err := s.mongo.Collection("friend").Find(ctx, bson.M{"owner_user_id": "u3"},
		options.Find().SetSort(bson.D{{Key: "is_pinned", Value: -1}, {Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		ID     primitive.ObjectID `bson:"_id"`
		Friend string             `bson:"friend_user_id"`
		Create time.Time          `bson:"create_time"`
	}
	if err := cur.All(ctx, &got); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range got {
		order = append(order, f.Friend)
		if !f.ID.Timestamp().Equal(f.Create.Truncate(time.Second)) {
			t.Errorf("friend %s: _id time %s, create_time %s", f.Friend, f.ID.Timestamp(), f.Create)
		}
	}
	if strings.Join(order, ",") != "u2,u1,u0" {
		t.Errorf("friend order by {is_pinned:-1, _id:1}: %v, want u2,u1,u0 (by create time)", order)
	}
	before := got[0].ID
	// A second migration into a fresh database gives the same ids.
	o2 := o
	o2.StateDir, o2.MongoDatabase = t.TempDir(), s.mongoName+"_2"
	t.Cleanup(func() { _ = s.mongo.Client().Database(o2.MongoDatabase).Drop(context.Background()) })
	if _, err := Run(ctx, o2); err != nil {
		t.Fatal(err)
	}
	var again struct {
		ID primitive.ObjectID `bson:"_id"`
	}
	if err := s.mongo.Client().Database(o2.MongoDatabase).Collection("friend").FindOne(ctx,
		bson.M{"owner_user_id": "u3", "friend_user_id": "u2"}).Decode(&again); err != nil || again.ID != before {
		t.Errorf("second run: _id %s, first run %s (%v)", again.ID.Hex(), before.Hex(), err)
	}
}

// TestReplacesForeignDocuments: documents up35 or OpenIM wrote before (other
// ObjectIDs, same unique key) are replaced by the source rows under our ids.
func TestReplacesForeignDocuments(t *testing.T) {
	t.Parallel()
	s, o, logs := setup35(t)
	ctx := context.Background()
	o.To = "3.5.0"
	if _, err := s.mongo.Collection("user").InsertOne(ctx, bson.M{"user_id": "u1", "nickname": "stale"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, o); err != nil {
		t.Fatalf("upgrade: %v\n%s", err, logs)
	}
	var u bson.M
	if err := s.mongo.Collection("user").FindOne(ctx, bson.M{"user_id": "u1"}).Decode(&u); err != nil {
		t.Fatal(err)
	}
	if u["nickname"] != "Alice" {
		t.Errorf("u1 not replaced by its row: %v", u)
	}
	if n, _ := s.mongo.Collection("user").CountDocuments(ctx, bson.D{}); n != 3 {
		t.Errorf("user: %d documents, want 3", n)
	}
}
