package openimmodels

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/openimsdk/open-im-server/v3/pkg/common/storage/database/mgo"
	"github.com/openimsdk/open-im-server/v3/pkg/common/storage/model"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/openim-supervisor/openim-supervisor/migrations/openimmodel"
)

// openim maps the names in openimmodel.Collections to OpenIM 3.8.3's types.
func openim() map[string]any {
	return map[string]any{
		"User": model.User{}, "Friend": model.Friend{}, "FriendRequest": model.FriendRequest{}, "Black": model.Black{},
		"Group": model.Group{}, "GroupMember": model.GroupMember{}, "GroupRequest": model.GroupRequest{},
		"Conversation": model.Conversation{}, "Object": model.Object{}, "Log": model.Log{},
		"SeqConversation": model.SeqConversation{}, "SeqUser": model.SeqUser{},
	}
}

func describe(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		out = append(out, fmt.Sprintf("%s %s %s", f.Name, f.Tag.Get("bson"), f.Type))
	}
	return out
}

// TestMirrorEqualsOpenIM: every mirrored type has OpenIM's fields, in
// OpenIM's order, with OpenIM's BSON names and Go types.
func TestMirrorEqualsOpenIM(t *testing.T) {
	real := openim()
	for coll, name := range openimmodel.Collections() {
		if name == "" {
			continue // OpenIM 3.5's RTC models: 3.8.3 has none
		}
		r, ok := real[name]
		if !ok {
			t.Errorf("%s: no OpenIM type %s in this test", coll, name)
			continue
		}
		mirror := reflect.TypeOf(openimmodel.For(coll)).Elem()
		if mirror.Name() != name {
			t.Errorf("%s: mirror type %s, OpenIM's %s", coll, mirror.Name(), name)
		}
		got, want := describe(mirror), describe(reflect.TypeOf(r))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: mirror differs from OpenIM 3.8.3's model.%s:\nmirror:\n  %s\nOpenIM:\n  %s", coll, name,
				strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

func need(t *testing.T, v string) string {
	t.Helper()
	s := os.Getenv(v)
	if s == "" {
		if os.Getenv("OPENIM_TEST_STRICT") == "1" {
			t.Fatalf("%s unset: run scripts/test-services.sh start && . .cache/test-env.sh", v)
		}
		t.Skipf("%s unset: run scripts/test-services.sh start && . .cache/test-env.sh", v)
	}
	return s
}

func freshDB(t *testing.T, cl *mongo.Client) *mongo.Database {
	t.Helper()
	var b [5]byte
	_, _ = rand.Read(b[:])
	db := cl.Database("om_" + hex.EncodeToString(b[:]))
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	return db
}

func connect(t *testing.T) *mongo.Client {
	t.Helper()
	uri := need(t, "OPENIM_TEST_MONGO_URI")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Disconnect(context.Background()) })
	return cl
}

// indexes lists a collection's indexes as "name key unique" lines.
func indexes(t *testing.T, c *mongo.Collection) []string {
	t.Helper()
	cur, err := c.Indexes().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for cur.Next(context.Background()) {
		var ix struct {
			Name   string `bson:"name"`
			Key    bson.D `bson:"key"`
			Unique bool   `bson:"unique"`
		}
		if err := bson.Unmarshal(cur.Current, &ix); err != nil {
			t.Fatal(err)
		}
		var key []string
		for _, e := range ix.Key {
			key = append(key, fmt.Sprintf("%s:%v", e.Key, e.Value))
		}
		out = append(out, fmt.Sprintf("%s {%s} unique=%v", ix.Name, strings.Join(key, ","), ix.Unique))
	}
	sort.Strings(out)
	return out
}

// TestIndexesEqualOpenIM: the indexes our golang-migrate files create (all
// index steps up to 3.8.3) are exactly those OpenIM 3.8.3's constructors
// create on the collections it reads, so its createIndexes at start-up
// finds them equal (on MongoDB a same-named index with other options fails
// with IndexOptionsConflict).
func TestIndexesEqualOpenIM(t *testing.T) {
	cl := connect(t)
	ctx := context.Background()
	theirs := freshDB(t, cl)
	for name, ctor := range map[string]func(*mongo.Database) error{
		"user":           func(db *mongo.Database) error { _, err := mgo.NewUserMongo(db); return err },
		"friend":         func(db *mongo.Database) error { _, err := mgo.NewFriendMongo(db); return err },
		"friend_request": func(db *mongo.Database) error { _, err := mgo.NewFriendRequestMongo(db); return err },
		"black":          func(db *mongo.Database) error { _, err := mgo.NewBlackMongo(db); return err },
		"group":          func(db *mongo.Database) error { _, err := mgo.NewGroupMongo(db); return err },
		"group_member":   func(db *mongo.Database) error { _, err := mgo.NewGroupMember(db); return err },
		"group_request":  func(db *mongo.Database) error { _, err := mgo.NewGroupRequestMgo(db); return err },
		"conversation":   func(db *mongo.Database) error { _, err := mgo.NewConversationMongo(db); return err },
		"log":            func(db *mongo.Database) error { _, err := mgo.NewLogMongo(db); return err },
		"s3":             func(db *mongo.Database) error { _, err := mgo.NewS3Mongo(db); return err },
		"seq":            func(db *mongo.Database) error { _, err := mgo.NewSeqConversationMongo(db); return err },
		"seq_user":       func(db *mongo.Database) error { _, err := mgo.NewSeqUserMongo(db); return err },
	} {
		if err := ctor(theirs); err != nil {
			t.Fatalf("OpenIM's constructor for %s: %v", name, err)
		}
	}
	ours := freshDB(t, cl)
	runIndexSteps(t, ours)
	names, err := theirs.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 16 {
		t.Fatalf("OpenIM's constructors made only %v", names)
	}
	for _, c := range names {
		want, got := indexes(t, theirs.Collection(c)), indexes(t, ours.Collection(c))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: our indexes differ from OpenIM 3.8.3's:\nours:\n  %s\nOpenIM:\n  %s", c,
				strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

// TestMigratedDataDecodesIntoOpenIM runs a real 3.4 -> 3.8.3 upgrade and
// decodes every document of every collection it writes into OpenIM
// 3.8.3's own model types (not the mirror), strictly: a field in the data
// that OpenIM's type has not, or one it has that the data lacks, fails.
func TestMigratedDataDecodesIntoOpenIM(t *testing.T) {
	db := migrate(t)
	ctx := context.Background()
	real := openim()
	for coll, name := range openimmodel.Collections() {
		if name == "" {
			continue
		}
		cur, err := db.Collection(coll).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for cur.Next(ctx) {
			n++
			typ := reflect.TypeOf(real[name])
			v := reflect.New(typ).Interface()
			if err := bson.Unmarshal(cur.Current, v); err != nil {
				t.Errorf("%s: %s does not decode into OpenIM's model.%s: %v", coll, cur.Current, name, err)
				continue
			}
			// Every field OpenIM's type has is in the document, and only
			// those (plus _id).
			fields := map[string]bool{"_id": true}
			for i := range typ.NumField() {
				tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("bson"), ",")
				fields[tag] = true
				if _, err := cur.Current.LookupErr(tag); err != nil {
					t.Errorf("%s: document %s lacks %s (OpenIM's model.%s has it)", coll, cur.Current.Lookup("_id"), tag, name)
				}
			}
			elems, _ := cur.Current.Elements()
			for _, e := range elems {
				if !fields[e.Key()] {
					t.Errorf("%s: document %s has %s, which OpenIM's model.%s has not", coll, cur.Current.Lookup("_id"), e.Key(), name)
				}
			}
			// Re-encoding OpenIM's value gives the same fields and values.
			re, err := bson.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if !sameDoc(cur.Current, re) {
				t.Errorf("%s: OpenIM's model.%s re-encodes %s as %s", coll, name, cur.Current, bson.Raw(re))
			}
		}
		cur.Close(ctx)
		if n == 0 && coll != "seq_user" {
			t.Errorf("%s: no documents (the seed should fill every collection)", coll)
		}
		t.Logf("%s: %d documents decode into model.%s", coll, n, name)
	}
}

// sameDoc compares two documents field by field, ignoring order and an _id
// the re-encoded one may lack (types without an ID field).
func sameDoc(a, b bson.Raw) bool {
	ea, _ := a.Elements()
	for _, e := range ea {
		if e.Key() == "_id" {
			if v, err := b.LookupErr("_id"); err == nil && !e.Value().Equal(v) {
				return false
			}
			continue
		}
		v, err := b.LookupErr(e.Key())
		if err != nil || !bytes.Equal(v.Value, e.Value().Value) || v.Type != e.Value().Type {
			return false
		}
	}
	return true
}
