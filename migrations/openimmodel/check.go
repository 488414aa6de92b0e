package openimmodel

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	version "github.com/hashicorp/go-version"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// For returns a new value (pointer) of the model type OpenIM reads
// collection coll with, or nil for a collection without a model here.
func For(coll string) any {
	switch coll {
	case "user":
		return &User{}
	case "friend":
		return &Friend{}
	case "friend_request":
		return &FriendRequest{}
	case "black":
		return &Black{}
	case "group":
		return &Group{}
	case "group_member":
		return &GroupMember{}
	case "group_request":
		return &GroupRequest{}
	case "conversation":
		return &Conversation{}
	case "s3":
		return &Object{}
	case "log":
		return &Log{}
	case "seq":
		return &SeqConversation{}
	case "seq_user":
		return &SeqUser{}
	case "signal":
		return &SignalModel{}
	case "signal_invitation":
		return &SignalInvitationModel{}
	case "meeting":
		return &MeetingInfo{}
	case "meeting_invitation":
		return &MeetingInvitationInfo{}
	case "meeting_record":
		return &MeetingVideoRecord{}
	}
	return nil
}

// Collections lists every collection For knows, with the name of OpenIM
// 3.8.3's model type ("" for the 3.5 RTC models 3.8.3 does not have).
func Collections() map[string]string {
	return map[string]string{
		"user": "User", "friend": "Friend", "friend_request": "FriendRequest", "black": "Black",
		"group": "Group", "group_member": "GroupMember", "group_request": "GroupRequest",
		"conversation": "Conversation", "s3": "Object", "log": "Log",
		"seq": "SeqConversation", "seq_user": "SeqUser",
		"signal": "", "signal_invitation": "", "meeting": "", "meeting_invitation": "", "meeting_record": "",
	}
}

// Field is one field of a model: its BSON name and the BSON type OpenIM
// writes for it.
type Field struct {
	Name string
	Type bsontype.Type
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	objectIDType = reflect.TypeOf(primitive.ObjectID{})
)

// Fields returns the fields of a model type (a struct or a pointer to one).
func Fields(model any) []Field {
	t := reflect.TypeOf(model)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := make([]Field, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("bson"), ",")
		out = append(out, Field{Name: name, Type: bsonTypeOf(f.Type)})
	}
	return out
}

func bsonTypeOf(t reflect.Type) bsontype.Type {
	switch {
	case t == timeType:
		return bsontype.DateTime
	case t == objectIDType:
		return bsontype.ObjectID
	}
	switch t.Kind() {
	case reflect.String:
		return bsontype.String
	case reflect.Int32:
		return bsontype.Int32
	case reflect.Int64, reflect.Int, reflect.Uint, reflect.Uint64:
		return bsontype.Int64
	case reflect.Bool:
		return bsontype.Boolean
	case reflect.Slice:
		return bsontype.Array
	}
	return bsontype.EmbeddedDocument
}

// Check decodes raw into model (a pointer from For) the way OpenIM does, and
// requires every field of the model to be present with the BSON type OpenIM
// writes: a document OpenIM would decode with a zero value where the data
// has none, or with a value of another type, fails.
func Check(raw bson.Raw, model any) error { return CheckAt(raw, model, "3.8.3") }

// addedAfter35 lists the fields OpenIM's models gained after 3.5.0, with the
// release that added them: a document written as 3.5 wrote it lacks them
// until the step of that release adds them.
func addedAfter35(model any) map[string]string {
	switch model.(type) {
	case *Log:
		return map[string]string{"app_framework": "3.8.3"}
	}
	return nil
}

// FieldsAt returns the fields of model that documents have at OpenIM
// version v (X.Y.Z; 3.5.0 or later).
func FieldsAt(model any, v string) []Field {
	want, err := version.NewVersion(v)
	if err != nil {
		panic("openimmodel.FieldsAt: " + err.Error())
	}
	added := addedAfter35(model)
	var out []Field
	for _, f := range Fields(model) {
		if since, ok := added[f.Name]; ok && want.LessThan(version.Must(version.NewVersion(since))) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// CheckAt is Check with the fields of version v.
func CheckAt(raw bson.Raw, model any, v string) error {
	if err := bson.Unmarshal(raw, model); err != nil {
		return fmt.Errorf("does not decode into OpenIM's %T: %w", model, err)
	}
	for _, f := range FieldsAt(model, v) {
		val, err := raw.LookupErr(f.Name)
		if err != nil {
			return fmt.Errorf("field %s missing (OpenIM's %T has it)", f.Name, model)
		}
		if val.Type != f.Type {
			return fmt.Errorf("field %s is BSON %s, OpenIM writes %s", f.Name, val.Type, f.Type)
		}
	}
	return nil
}
