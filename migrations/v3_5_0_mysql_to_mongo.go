package migrations

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openim-supervisor/openim-supervisor/migrations/openimmodel"
)

// v350MySQLToMongo copies OpenIM 3.4's 15 MySQL tables into OpenIM 3.5's
// MongoDB collections (what OpenIM's tools/up35 does), without up35's
// defects: keyset pagination by primary key instead of LIMIT/OFFSET without
// ORDER BY, a checkpoint per table so a re-run resumes, deterministic
// ObjectIDs so a replay writes nothing twice, every row of a table without a
// unique key kept, explicit time zone, loud failure when MySQL is not
// configured, and a verification against the source (mysql35_verify.go).
func v350MySQLToMongo() Step {
	v := &verifier35{}
	colls := make([]string, 0, len(tables35()))
	for _, t := range tables35() {
		colls = append(colls, t.dst)
	}
	return Step{
		Version:     "3.5.0",
		Name:        "mysql-to-mongo",
		Kind:        KindData,
		Description: "copy OpenIM 3.4's 15 MySQL tables (users, groups, friends, ...) into OpenIM 3.5's MongoDB collections",
		Needs:       Mongo | MySQL,
		Collections: colls,
		Writes:      true,
		Applied:     markerApplied(Marker35Collection, Marker35Key, Marker35Value),
		Mark:        markerWriter(Marker35Collection, Marker35Key, Marker35Value),
		Estimate:    estimate35,
		Run:         func(ctx context.Context, env *Env) (Counts, error) { return run35(ctx, env, v) },
		Verify:      v.verify,
	}
}

// colKind is how a MySQL column becomes a BSON value.
type colKind int

const (
	kStr     colKind = iota // VARCHAR/CHAR/TEXT -> string ("" for NULL)
	kInt32                  // INT -> int32
	kInt64                  // BIGINT -> int64
	kBool                   // TINYINT(1)/BOOL -> bool
	kTime                   // DATETIME(3) -> date, read in env.Zone
	kUnixSec                // BIGINT Unix seconds -> date (meeting start/end)
)

type col struct {
	src, dst string
	kind     colKind
}

// table35 maps one OpenIM 3.4 table (columns from its gorm models,
// tools/data-conversion/openim/mysql/v3 and up35's rtc models) to one OpenIM
// 3.5 collection (bson fields from pkg/common/db/table/relation and up35's
// rtc/mongo/table in v3.5; openimmodel mirrors them).
type table35 struct {
	src, dst string
	// key is the primary key: rows are paged by it. nil for
	// meeting_video_record, which has none: it is read in one ordered
	// stream and every row is kept, exact duplicates included.
	key []string
	// unique are the source columns of the target's unique index (nil for
	// none). When it is narrower than key, the first row in key order is
	// kept and later rows with the same unique key are conflicts (counted,
	// reported, never written).
	unique []string
	// idTime is the column whose time the document's ObjectID carries.
	idTime string
	cols   []col
	engine bool // add s3.engine
}

func (t table35) narrower() bool { return t.unique != nil && len(t.unique) < len(t.key) }

func tables35() []table35 {
	s := func(n string) col { return col{n, n, kStr} }
	i32 := func(n string) col { return col{n, n, kInt32} }
	tm := func(n string) col { return col{n, n, kTime} }
	k := func(cols ...string) []string { return cols }
	return []table35{
		{src: "users", dst: "user", key: k("user_id"), unique: k("user_id"), idTime: "create_time", cols: []col{
			s("user_id"), {"name", "nickname", kStr}, s("face_url"), s("ex"), tm("create_time"),
			i32("app_manger_level"), i32("global_recv_msg_opt")}},
		{src: "friends", dst: "friend", key: k("owner_user_id", "friend_user_id"), unique: k("owner_user_id", "friend_user_id"),
			idTime: "create_time", cols: []col{
				s("owner_user_id"), s("friend_user_id"), s("remark"), tm("create_time"), i32("add_source"), s("operator_user_id"), s("ex")}},
		{src: "friend_requests", dst: "friend_request", key: k("from_user_id", "to_user_id"), unique: k("from_user_id", "to_user_id"),
			idTime: "create_time", cols: []col{
				s("from_user_id"), s("to_user_id"), i32("handle_result"), s("req_msg"), tm("create_time"), s("handler_user_id"),
				s("handle_msg"), tm("handle_time"), s("ex")}},
		{src: "blacks", dst: "black", key: k("owner_user_id", "block_user_id"), unique: k("owner_user_id", "block_user_id"),
			idTime: "create_time", cols: []col{
				s("owner_user_id"), s("block_user_id"), tm("create_time"), i32("add_source"), s("operator_user_id"), s("ex")}},
		{src: "groups", dst: "group", key: k("group_id"), unique: k("group_id"), idTime: "create_time", cols: []col{
			s("group_id"), {"name", "group_name", kStr}, s("notification"), s("introduction"), s("face_url"), tm("create_time"),
			s("ex"), i32("status"), s("creator_user_id"), i32("group_type"), i32("need_verification"), i32("look_member_info"),
			i32("apply_member_friend"), tm("notification_update_time"), s("notification_user_id")}},
		{src: "group_members", dst: "group_member", key: k("group_id", "user_id"), unique: k("group_id", "user_id"),
			idTime: "join_time", cols: []col{
				s("group_id"), s("user_id"), s("nickname"), {"user_group_face_url", "face_url", kStr}, i32("role_level"), tm("join_time"),
				i32("join_source"), s("inviter_user_id"), s("operator_user_id"), tm("mute_end_time"), s("ex")}},
		{src: "group_requests", dst: "group_request", key: k("user_id", "group_id"), unique: k("group_id", "user_id"),
			idTime: "req_time", cols: []col{
				s("user_id"), s("group_id"), i32("handle_result"), s("req_msg"), {"handle_msg", "handled_msg", kStr}, tm("req_time"),
				s("handle_user_id"), {"handle_time", "handled_time", kTime}, i32("join_source"), s("inviter_user_id"), s("ex")}},
		{src: "conversations", dst: "conversation", key: k("owner_user_id", "conversation_id"), unique: k("owner_user_id", "conversation_id"),
			idTime: "create_time", cols: []col{
				s("owner_user_id"), s("conversation_id"), i32("conversation_type"), s("user_id"), s("group_id"), i32("recv_msg_opt"),
				{"is_pinned", "is_pinned", kBool}, {"is_private_chat", "is_private_chat", kBool}, i32("burn_duration"), i32("group_at_type"),
				s("attached_info"), s("ex"), {"max_seq", "max_seq", kInt64}, {"min_seq", "min_seq", kInt64}, tm("create_time"),
				{"is_msg_destruct", "is_msg_destruct", kBool}, {"msg_destruct_time", "msg_destruct_time", kInt64}, tm("latest_msg_destruct_time")}},
		{src: "object", dst: "s3", key: k("name"), unique: k("name"), idTime: "create_time", engine: true, cols: []col{
			s("name"), s("user_id"), s("hash"), s("key"), {"size", "size", kInt64}, s("content_type"), {"cause", "group", kStr}, tm("create_time")}},
		{src: "logs", dst: "log", key: k("log_id"), unique: k("log_id"), idTime: "create_time", cols: []col{
			s("log_id"), s("platform"), s("user_id"), tm("create_time"), s("url"), {"filename", "file_name", kStr}, s("system_type"), s("version"), s("ex")}},
		{src: "signal", dst: "signal", key: k("sid", "room_id"), unique: k("sid"), idTime: "initiate_time", cols: []col{
			s("sid"), s("inviter_user_id"), s("custom_data"), s("group_id"), s("room_id"), i32("timeout"), s("media_type"),
			i32("platform_id"), {"sesstion_type", "session_type", kInt32}, tm("initiate_time"), tm("end_time"), s("file_url"),
			s("title"), s("desc"), s("ex"), s("ios_push_sound"), {"ios_badge_count", "ios_badge_count", kBool}, s("signal_info")}},
		{src: "signal_invitation", dst: "signal_invitation", key: k("user_id", "sid", "initiate_time"), unique: k("sid", "user_id"),
			idTime: "initiate_time", cols: []col{
				s("user_id"), s("sid"), i32("status"), tm("initiate_time"), tm("handle_time")}},
		{src: "meeting", dst: "meeting", key: k("room_id"), unique: k("room_id"), idTime: "create_time", cols: []col{
			s("room_id"), s("meeting_name"), s("host_user_id"), {"status", "status", kInt64},
			{"start_time", "start_time", kUnixSec}, {"end_time", "end_time", kUnixSec}, tm("create_time"), s("ex")}},
		{src: "meeting_invitation", dst: "meeting_invitation", key: k("room_id", "user_id"), unique: k("room_id", "user_id"),
			idTime: "create_time", cols: []col{
				s("room_id"), s("user_id"), tm("create_time")}},
		{src: "meeting_video_record", dst: "meeting_record", idTime: "create_time", cols: []col{
			s("room_id"), s("file_url"), tm("create_time")}},
	}
}

// colIndex returns the index in cols of a source column.
func (t table35) colIndex(src string) int {
	for i, c := range t.cols {
		if c.src == src {
			return i
		}
	}
	panic("table " + t.src + ": no column " + src)
}

// fieldOrder is the order of the document's fields: OpenIM 3.5's model
// order (the order OpenIM's struct encoding writes), after _id. Fields the
// model has and the 3.4 row has not (log.app_framework, added in 3.8.3;
// friend.is_pinned, written as false) come from fixed values.
func (t table35) fieldOrder() []string {
	var out []string
	for _, f := range openimmodel.FieldsAt(openimmodel.For(t.dst), "3.5.0") {
		if f.Name != "_id" {
			out = append(out, f.Name)
		}
	}
	return out
}

// fixedFields are the fields of the 3.5 model no 3.4 column fills, with the
// value OpenIM 3.5 wrote for them (up35 encoded its structs whole).
func (t table35) fixedFields() map[string]any {
	switch t.dst {
	case "friend":
		return map[string]any{"is_pinned": false}
	}
	return nil
}

func q(id string) string { return "`" + strings.ReplaceAll(id, "`", "``") + "`" }

// zeroTime is what NULL and 0000-00-00 DATETIMEs become: the Unix epoch.
// OpenIM itself (3.4 and 3.8 alike) writes time.Unix(0, 0) for "not set"
// (group members' mute_end_time, unhandled requests' handle(d)_time); up35
// wrote Go's zero time (year 1), which clients receive as -62135596800000 ms.
var zeroTime = time.Unix(0, 0).UTC()

const mysqlTimeLayout = "2006-01-02 15:04:05.999999999"

func convert(kind colKind, raw []byte, zone *time.Location) (any, error) {
	s := string(raw)
	switch kind {
	case kStr:
		return s, nil
	case kInt32, kInt64:
		if raw == nil || s == "" {
			if kind == kInt32 {
				return int32(0), nil
			}
			return int64(0), nil
		}
		if kind == kInt32 {
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("integer %q: %w", s, err)
			}
			return int32(n), nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("integer %q: %w", s, err)
		}
		return n, nil
	case kBool:
		return s != "" && s != "0", nil
	case kUnixSec:
		var n int64
		if raw != nil && s != "" {
			var err error
			if n, err = strconv.ParseInt(s, 10, 64); err != nil {
				return nil, fmt.Errorf("unix seconds %q: %w", s, err)
			}
		}
		return time.Unix(n, 0).UTC(), nil
	case kTime:
		if raw == nil || s == "" || strings.HasPrefix(s, "0000-00-00") {
			return zeroTime, nil
		}
		if len(s) == len("2006-01-02") {
			s += " 00:00:00"
		}
		tv, err := time.ParseInLocation(mysqlTimeLayout, s, zone)
		if err != nil {
			return nil, fmt.Errorf("datetime %q: %w", s, err)
		}
		// A wall time the zone skips (a DST gap) has no instant: refuse it
		// rather than store an hour the row never said.
		if back := tv.In(zone).Format(mysqlTimeLayout); !sameWallTime(back, s) {
			return nil, fmt.Errorf("datetime %q does not exist in time zone %s (it becomes %s); pass the zone the data was written in with --time-zone", s, zone, back)
		}
		return tv.UTC(), nil
	}
	return nil, fmt.Errorf("unknown column kind %d", kind)
}

// sameWallTime compares two "2006-01-02 15:04:05[.fff]" texts, ignoring
// trailing fractional zeros.
func sameWallTime(a, b string) bool {
	trim := func(s string) string {
		if strings.Contains(s, ".") {
			s = strings.TrimRight(s, "0")
			s = strings.TrimSuffix(s, ".")
		}
		return s
	}
	return trim(a) == trim(b)
}

func estimate35(ctx context.Context, env *Env) (string, error) {
	db, err := env.MySQL(ctx)
	if err != nil {
		return "", err
	}
	rows, err := db.QueryContext(ctx, "SELECT table_name, table_rows FROM information_schema.tables WHERE table_schema = DATABASE()")
	if err != nil {
		return "", fmt.Errorf("read information_schema: %w", err)
	}
	defer rows.Close()
	have := map[string]int64{}
	for rows.Next() {
		var n string
		var c *int64
		if err := rows.Scan(&n, &c); err != nil {
			return "", err
		}
		if c != nil {
			have[n] = *c
		}
	}
	var parts []string
	var total int64
	for _, t := range tables35() {
		n, ok := have[t.src]
		if !ok {
			parts = append(parts, t.src+"=absent")
			continue
		}
		total += n
		parts = append(parts, fmt.Sprintf("%s~%d", t.src, n))
	}
	return fmt.Sprintf("~%d rows (InnoDB estimate): %s", total, strings.Join(parts, " ")), rows.Err()
}
