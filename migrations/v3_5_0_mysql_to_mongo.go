package migrations

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// v350MySQLToMongo copies OpenIM 3.4's 15 MySQL tables into OpenIM 3.5's
// MongoDB collections (what OpenIM's tools/up35 does), without up35's
// defects: keyset pagination by primary key instead of LIMIT/OFFSET without
// ORDER BY, a checkpoint per table so a re-run resumes, idempotent upserts by
// each collection's natural key so a replay writes nothing twice, explicit
// time zone, and loud failure when MySQL is not configured.
func v350MySQLToMongo() Step {
	colls := make([]string, 0, len(tables35()))
	for _, t := range tables35() {
		colls = append(colls, t.dst)
	}
	return Step{
		Version:     "3.5.0",
		Name:        "mysql-to-mongo",
		Description: "copy OpenIM 3.4's 15 MySQL tables (users, groups, friends, ...) into OpenIM 3.5's MongoDB collections",
		Needs:       Mongo | MySQL,
		Collections: colls,
		Writes:      true,
		Applied:     markerApplied(Marker35Collection, Marker35Key, Marker35Value),
		Mark:        markerWriter(Marker35Collection, Marker35Key, Marker35Value),
		Estimate:    estimate35,
		Run:         run35,
		Verify:      verify35,
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
// 3.5 collection (bson fields from pkg/common/db/table/relation in v3.5).
type table35 struct {
	src, dst string
	// key: the source columns rows are ordered and paged by (the primary
	// key; meeting_video_record has none, so all its columns).
	key []string
	// nat: the target's natural (unique) key fields. When it is narrower
	// than key, the first row in key order is kept and later ones are
	// conflicts (counted, reported, never written).
	nat    []string
	cols   []col
	binary bool // compare key strings byte-wise (no unique key in MySQL)
	engine bool // add s3.engine
}

func (t table35) narrower() bool { return len(t.nat) < len(t.key) || t.binary }

func tables35() []table35 {
	s := func(n string) col { return col{n, n, kStr} }
	i32 := func(n string) col { return col{n, n, kInt32} }
	tm := func(n string) col { return col{n, n, kTime} }
	return []table35{
		{src: "users", dst: "user", key: []string{"user_id"}, nat: []string{"user_id"}, cols: []col{
			s("user_id"), {"name", "nickname", kStr}, s("face_url"), s("ex"), tm("create_time"),
			i32("app_manger_level"), i32("global_recv_msg_opt")}},
		{src: "friends", dst: "friend", key: []string{"owner_user_id", "friend_user_id"}, nat: []string{"owner_user_id", "friend_user_id"}, cols: []col{
			s("owner_user_id"), s("friend_user_id"), s("remark"), tm("create_time"), i32("add_source"), s("operator_user_id"), s("ex")}},
		{src: "friend_requests", dst: "friend_request", key: []string{"from_user_id", "to_user_id"}, nat: []string{"from_user_id", "to_user_id"}, cols: []col{
			s("from_user_id"), s("to_user_id"), i32("handle_result"), s("req_msg"), tm("create_time"), s("handler_user_id"),
			s("handle_msg"), tm("handle_time"), s("ex")}},
		{src: "blacks", dst: "black", key: []string{"owner_user_id", "block_user_id"}, nat: []string{"owner_user_id", "block_user_id"}, cols: []col{
			s("owner_user_id"), s("block_user_id"), tm("create_time"), i32("add_source"), s("operator_user_id"), s("ex")}},
		{src: "groups", dst: "group", key: []string{"group_id"}, nat: []string{"group_id"}, cols: []col{
			s("group_id"), {"name", "group_name", kStr}, s("notification"), s("introduction"), s("face_url"), tm("create_time"),
			s("ex"), i32("status"), s("creator_user_id"), i32("group_type"), i32("need_verification"), i32("look_member_info"),
			i32("apply_member_friend"), tm("notification_update_time"), s("notification_user_id")}},
		{src: "group_members", dst: "group_member", key: []string{"group_id", "user_id"}, nat: []string{"group_id", "user_id"}, cols: []col{
			s("group_id"), s("user_id"), s("nickname"), {"user_group_face_url", "face_url", kStr}, i32("role_level"), tm("join_time"),
			i32("join_source"), s("inviter_user_id"), s("operator_user_id"), tm("mute_end_time"), s("ex")}},
		{src: "group_requests", dst: "group_request", key: []string{"user_id", "group_id"}, nat: []string{"user_id", "group_id"}, cols: []col{
			s("user_id"), s("group_id"), i32("handle_result"), s("req_msg"), {"handle_msg", "handled_msg", kStr}, tm("req_time"),
			s("handle_user_id"), {"handle_time", "handled_time", kTime}, i32("join_source"), s("inviter_user_id"), s("ex")}},
		{src: "conversations", dst: "conversation", key: []string{"owner_user_id", "conversation_id"}, nat: []string{"owner_user_id", "conversation_id"}, cols: []col{
			s("owner_user_id"), s("conversation_id"), i32("conversation_type"), s("user_id"), s("group_id"), i32("recv_msg_opt"),
			{"is_pinned", "is_pinned", kBool}, {"is_private_chat", "is_private_chat", kBool}, i32("burn_duration"), i32("group_at_type"),
			s("attached_info"), s("ex"), {"max_seq", "max_seq", kInt64}, {"min_seq", "min_seq", kInt64}, tm("create_time"),
			{"is_msg_destruct", "is_msg_destruct", kBool}, {"msg_destruct_time", "msg_destruct_time", kInt64}, tm("latest_msg_destruct_time")}},
		{src: "object", dst: "s3", key: []string{"name"}, nat: []string{"name"}, engine: true, cols: []col{
			s("name"), s("user_id"), s("hash"), s("key"), {"size", "size", kInt64}, s("content_type"), {"cause", "group", kStr}, tm("create_time")}},
		{src: "logs", dst: "log", key: []string{"log_id"}, nat: []string{"log_id"}, cols: []col{
			s("log_id"), s("platform"), s("user_id"), tm("create_time"), s("url"), {"filename", "file_name", kStr}, s("system_type"), s("version"), s("ex")}},
		{src: "signal", dst: "signal", key: []string{"sid", "room_id"}, nat: []string{"sid"}, cols: []col{
			s("sid"), s("inviter_user_id"), s("custom_data"), s("group_id"), s("room_id"), i32("timeout"), s("media_type"),
			i32("platform_id"), {"sesstion_type", "session_type", kInt32}, tm("initiate_time"), tm("end_time"), s("file_url"),
			s("title"), s("desc"), s("ex"), s("ios_push_sound"), {"ios_badge_count", "ios_badge_count", kBool}, s("signal_info")}},
		{src: "signal_invitation", dst: "signal_invitation", key: []string{"user_id", "sid", "initiate_time"}, nat: []string{"user_id", "sid"}, cols: []col{
			s("user_id"), s("sid"), i32("status"), tm("initiate_time"), tm("handle_time")}},
		{src: "meeting", dst: "meeting", key: []string{"room_id"}, nat: []string{"room_id"}, cols: []col{
			s("room_id"), s("meeting_name"), s("host_user_id"), {"status", "status", kInt64},
			{"start_time", "start_time", kUnixSec}, {"end_time", "end_time", kUnixSec}, tm("create_time"), s("ex")}},
		{src: "meeting_invitation", dst: "meeting_invitation", key: []string{"room_id", "user_id"}, nat: []string{"room_id", "user_id"}, cols: []col{
			s("room_id"), s("user_id"), tm("create_time")}},
		{src: "meeting_video_record", dst: "meeting_record", key: []string{"room_id", "file_url", "create_time"},
			nat: []string{"room_id", "file_url", "create_time"}, binary: true, cols: []col{
				s("room_id"), s("file_url"), tm("create_time")}},
	}
}

// dstOf returns the target field of a source column.
func (t table35) dstOf(src string) string {
	for _, c := range t.cols {
		if c.src == src {
			return c.dst
		}
	}
	return src
}

func q(id string) string { return "`" + strings.ReplaceAll(id, "`", "``") + "`" }

// keyExpr is the expression a key column is paged by. meeting_video_record
// has no primary key, so its columns may be NULL and may differ only in
// case: it is paged by COALESCEd, byte-wise values.
func (t table35) keyExpr(c string) string {
	if !t.binary {
		return q(c)
	}
	if c == "create_time" {
		return "COALESCE(" + q(c) + ", '0000-00-00 00:00:00')"
	}
	return "BINARY COALESCE(" + q(c) + ", '')"
}

// selectSQL is the keyset query: rows after the last key, in key order. The
// key expressions are selected after the columns, so the checkpoint holds
// exactly the values the next query compares with.
func (t table35) selectSQL(after bool, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for _, c := range t.cols {
		b.WriteString(q(c.src) + ", ")
	}
	for i, k := range t.key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.keyExpr(k))
	}
	b.WriteString(" FROM " + q(t.src))
	if after {
		// (k1 > ?) OR (k1 = ? AND k2 > ?) OR ... : MariaDB and MySQL 5.7 use
		// the primary key range for this form.
		b.WriteString(" WHERE ")
		for i := range t.key {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(")
			for j := 0; j < i; j++ {
				b.WriteString(t.keyExpr(t.key[j]) + " = ? AND ")
			}
			b.WriteString(t.keyExpr(t.key[i]) + " > ?)")
		}
	}
	b.WriteString(" ORDER BY ")
	for i, k := range t.key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.keyExpr(k))
	}
	fmt.Fprintf(&b, " LIMIT %d", limit)
	return b.String()
}

func (t table35) keyArgs(last []string) []any {
	var args []any
	for i := range t.key {
		for j := 0; j < i; j++ {
			args = append(args, last[j])
		}
		args = append(args, last[i])
	}
	return args
}

// zeroTime is what NULL and 0000-00-00 DATETIMEs become: the Unix epoch.
// OpenIM 3.5 itself writes time.Unix(0, 0) for "not set" (group members'
// mute_end_time, unhandled requests' handled_time) and reports it to clients
// as 0 ms, as 3.4 did. up35 wrote Go's zero time (year 1), which clients
// receive as -62135596800000 ms.
var zeroTime = time.Unix(0, 0).UTC()

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
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("integer %q: %w", s, err)
		}
		if kind == kInt32 {
			return int32(n), nil
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
		tv, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, zone)
		if err != nil {
			if tv, err = time.ParseInLocation("2006-01-02", s, zone); err != nil {
				return nil, fmt.Errorf("datetime %q: %w", s, err)
			}
		}
		return tv.UTC(), nil
	}
	return nil, fmt.Errorf("unknown column kind %d", kind)
}

// CheckpointCollection holds one document per (step, table): the last key
// written and counters, updated only after the batch it describes is
// written, so after a crash at most one batch is replayed, and replays are
// idempotent upserts.
const CheckpointCollection = "openim_supervisor_checkpoint"

type checkpoint struct {
	ID        string    `bson:"_id"`
	Last      []string  `bson:"last"`
	Rows      int64     `bson:"rows"`
	Written   int64     `bson:"written"`
	Done      bool      `bson:"done"`
	UpdatedAt time.Time `bson:"updated_at"`
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
