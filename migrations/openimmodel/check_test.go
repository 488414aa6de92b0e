package openimmodel

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	good := bson.D{{Key: "_id", Value: primitive.NewObjectID()}, {Key: "owner_user_id", Value: "u1"}, {Key: "friend_user_id", Value: "u2"},
		{Key: "remark", Value: ""}, {Key: "create_time", Value: time.Unix(0, 0)}, {Key: "add_source", Value: int32(1)},
		{Key: "operator_user_id", Value: ""}, {Key: "ex", Value: ""}, {Key: "is_pinned", Value: false}}
	raw, _ := bson.Marshal(good)
	if err := Check(raw, For("friend")); err != nil {
		t.Fatalf("good friend: %v", err)
	}
	cases := map[string]struct {
		doc  bson.D
		want string
	}{
		"string _id":        {replace(good, "_id", "u1\x1fu2"), "does not decode"},
		"missing is_pinned": {good[:len(good)-1], "field is_pinned missing"},
		"int64 add_source":  {replace(good, "add_source", int64(1)), "add_source is BSON 64-bit integer"},
		"string time":       {replace(good, "create_time", "2023-01-01"), "does not decode"},
	}
	for name, c := range cases {
		raw, _ := bson.Marshal(c.doc)
		if err := Check(raw, For("friend")); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", name, err, c.want)
		}
	}
	for coll := range Collections() {
		if For(coll) == nil {
			t.Errorf("%s: no model", coll)
		}
	}
}

func replace(d bson.D, key string, v any) bson.D {
	out := make(bson.D, len(d))
	copy(out, d)
	for i := range out {
		if out[i].Key == key {
			out[i].Value = v
		}
	}
	return out
}
