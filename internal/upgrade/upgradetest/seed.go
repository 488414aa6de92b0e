// Package upgradetest seeds the awkward data the end-to-end upgrade tests
// run on: OpenIM 3.4's MySQL tables with NULLs, zero dates, the epoch,
// exact duplicates, case-variant ids, values of the maximum length, a
// 5,000-member group, and OpenIM 3.7's seqs in Redis for every
// conversation. Only tests import it.
package upgradetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Shape of the dataset.
const (
	BigGroup        = "big"   // the 5,000-member group
	BigGroupMembers = 5000    // its members m00001..m05000
	FriendOwner     = "alice" // the user whose friend list order is checked
	OwnerFriends    = 60      // her friends, added one after another
	LongID          = 64      // users.user_id is varchar(64)
	Zone            = "Asia/Shanghai"
)

// Schema returns OpenIM 3.4's CREATE TABLEs (internal/upgrade/testdata/openim34.sql).
func Schema() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "testdata", "openim34.sql"))
	return string(b), err
}

// rows builds one multi-row INSERT per table.
type rows struct {
	table string
	vals  []string
}

func (r *rows) add(vals ...any) {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = lit(v)
	}
	r.vals = append(r.vals, "("+strings.Join(parts, ",")+")")
}

// null is SQL NULL.
type null struct{}

// Null is SQL NULL in Seed's values.
var Null = null{}

func lit(v any) string {
	switch x := v.(type) {
	case null:
		return "NULL"
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(x) + "'"
	case int:
		return fmt.Sprint(x)
	case int64:
		return fmt.Sprint(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	panic(fmt.Sprintf("lit %T", v))
}

func (r *rows) exec(ctx context.Context, db *sql.DB) error {
	for len(r.vals) > 0 {
		n := min(len(r.vals), 500)
		q := "INSERT INTO `" + r.table + "` VALUES " + strings.Join(r.vals[:n], ",")
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("seed %s: %w", r.table, err)
		}
		r.vals = r.vals[n:]
	}
	return nil
}

// Seed creates OpenIM 3.4's tables in db (a fresh database whose default
// collation is utf8mb4_bin, so "alice", "Alice" and "ALICE" are three users)
// and fills them. Times are wall times in Zone. It returns the
// conversations, for SeedRedis.
func Seed(ctx context.Context, db *sql.DB) ([]Conversation, error) {
	schema, err := Schema()
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	// Byte-wise ids, so case variants are different users (gorm creates
	// tables in the database's collation; some installations use _bin).
	for _, t := range Tables() {
		if _, err := db.ExecContext(ctx, "ALTER TABLE `"+t+"` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
			return nil, fmt.Errorf("collation of %s: %w", t, err)
		}
	}
	rng := rand.New(rand.NewPCG(34, 38))
	base := time.Date(2023, 5, 1, 9, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) string { return base.Add(d).Format("2006-01-02 15:04:05.000") }

	users := &rows{table: "users"}
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	special := [][]any{
		{"alice", "Alice", "http://f/alice.png", `{"vip":true}`, ts(0), 1, 0},
		{"Alice", "Alice (upper)", Null, Null, ts(time.Second), 1, 1},
		{"ALICE", "ALICE", "", "", "0000-00-00 00:00:00", Null, Null},
		{strings.Repeat("x", LongID), long("名", 255), long("u", 255), long("e", 1024), ts(2 * time.Second), 2, 2},
		{"emoji", long("😀", 255), Null, "", "1970-01-01 08:00:00.000", 1, 0},
		{"nulls", Null, Null, Null, Null, Null, Null},
		{"quote'user", `a "quoted" \ name`, "", "", ts(3 * time.Second), 1, 0},
		{"imAdmin", "imAdmin", "", "", ts(4 * time.Second), 100, 0},
	}
	for _, u := range special {
		users.add(u...)
	}
	for i := 1; i <= OwnerFriends; i++ {
		users.add(fmt.Sprintf("f%03d", i), fmt.Sprintf("friend %d", i), "", "", ts(time.Duration(i)*time.Minute), 1, 0)
	}
	for i := 1; i <= BigGroupMembers; i++ {
		users.add(fmt.Sprintf("m%05d", i), fmt.Sprintf("member %d", i), "", "", ts(time.Duration(i)*time.Second), 1, i%3)
	}
	if err := users.exec(ctx, db); err != nil {
		return nil, err
	}

	// alice's friends were added one after another, several within one
	// second (millisecond order), so the list order is the add order.
	friends := &rows{table: "friends"}
	for i := 1; i <= OwnerFriends; i++ {
		at := base.Add(time.Hour + time.Duration(i/3)*time.Second + time.Duration(i%3)*100*time.Millisecond)
		remark := any(fmt.Sprintf("remark %d", i))
		switch i % 7 {
		case 0:
			remark = Null
		case 1:
			remark = long("r", 255)
		}
		friends.add(FriendOwner, fmt.Sprintf("f%03d", i), remark, at.Format("2006-01-02 15:04:05.000"), 1+i%4, FriendOwner, "")
		friends.add(fmt.Sprintf("f%03d", i), FriendOwner, "", at.Format("2006-01-02 15:04:05.000"), 3, FriendOwner, Null)
	}
	friends.add("Alice", "ALICE", "case", ts(0), 1, "Alice", "")
	friends.add("ALICE", "Alice", Null, "0000-00-00 00:00:00", 1, Null, Null)
	friends.add("nulls", "emoji", Null, Null, Null, Null, Null)
	if err := friends.exec(ctx, db); err != nil {
		return nil, err
	}

	blacks := &rows{table: "blacks"}
	blacks.add(FriendOwner, "ALICE", ts(2*time.Hour), 1, FriendOwner, "bx")
	blacks.add(FriendOwner, "nulls", Null, Null, Null, Null)
	blacks.add("Alice", "alice", "0000-00-00 00:00:00", 2, "Alice", long("b", 1024))
	if err := blacks.exec(ctx, db); err != nil {
		return nil, err
	}

	freq := &rows{table: "friend_requests"}
	freq.add("emoji", FriendOwner, 0, "hi 😀", ts(3*time.Hour), "", Null, Null, "")
	freq.add("nulls", FriendOwner, 1, Null, Null, FriendOwner, "ok", ts(3*time.Hour+time.Minute), Null)
	freq.add(FriendOwner, "Alice", -1, long("q", 255), "0000-00-00 00:00:00", "Alice", long("h", 255), "0000-00-00 00:00:00", "x")
	if err := freq.exec(ctx, db); err != nil {
		return nil, err
	}

	groups := &rows{table: "groups"}
	groups.add(BigGroup, "The big group", "notice", "intro", "http://f/g.png", ts(4*time.Hour), "gex", 0, FriendOwner, 2, 1, 0, 1, ts(4*time.Hour+time.Minute), FriendOwner)
	groups.add("g-nulls", Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null)
	groups.add("G-NULLS", long("g", 255), long("n", 255), long("i", 255), "", "0000-00-00 00:00:00", long("x", 2000), 0, "Alice", 2, 0, 1, 0, "0000-00-00 00:00:00", "")
	if err := groups.exec(ctx, db); err != nil {
		return nil, err
	}

	members := &rows{table: "group_members"}
	members.add(BigGroup, FriendOwner, "owner", "", 100, ts(4*time.Hour), 2, FriendOwner, FriendOwner, "1970-01-01 08:00:00.000", "")
	for i := 1; i <= BigGroupMembers-1; i++ {
		mute := any(Null)
		if i%50 == 0 {
			mute = ts(24 * 400 * time.Hour) // muted until 2024
		}
		role := 20
		if i%1000 == 0 {
			role = 60
		}
		members.add(BigGroup, fmt.Sprintf("m%05d", i), fmt.Sprintf("nick %d", i), "", role,
			ts(4*time.Hour+time.Duration(i)*time.Second), 3, FriendOwner, "", mute, "")
	}
	members.add("g-nulls", "nulls", Null, Null, Null, Null, Null, Null, Null, Null, Null)
	members.add("G-NULLS", "Alice", long("n", 255), long("f", 255), 100, "0000-00-00 00:00:00", 2, "", "", "0000-00-00 00:00:00", long("e", 1024))
	members.add("G-NULLS", "alice", "", "", 20, ts(5*time.Hour), 2, "Alice", "Alice", Null, "")
	if err := members.exec(ctx, db); err != nil {
		return nil, err
	}

	greq := &rows{table: "group_requests"}
	greq.add(fmt.Sprintf("m%05d", BigGroupMembers), BigGroup, 0, "let me in", Null, ts(6*time.Hour), "", Null, 3, "", "")
	greq.add("emoji", BigGroup, 1, "😀", "welcome", ts(6*time.Hour+time.Minute), FriendOwner, ts(6*time.Hour+2*time.Minute), 2, FriendOwner, "grx")
	greq.add("nulls", "G-NULLS", Null, Null, Null, Null, Null, Null, Null, Null, Null)
	if err := greq.exec(ctx, db); err != nil {
		return nil, err
	}

	var convs []Conversation
	conv := &rows{table: "conversations"}
	addConv := func(owner, id string, typ int, user, group string, max, min int64, created string) {
		conv.add(owner, id, typ, user, group, rng.IntN(3), rng.IntN(2) == 0, rng.IntN(5) == 0, 30, 0, "", "", max, min,
			created, false, 604800, created)
		convs = append(convs, Conversation{Owner: owner, ID: id, Group: group, MaxSeq: max, MinSeq: min})
	}
	for i := 1; i <= OwnerFriends; i++ {
		f := fmt.Sprintf("f%03d", i)
		id := SingleConversationID(f, FriendOwner)
		max := int64(10 + rng.IntN(1000))
		addConv(FriendOwner, id, 1, f, "", max, int64(i%3), ts(time.Hour))
		addConv(f, id, 1, FriendOwner, "", max, 0, ts(time.Hour))
	}
	addConv(FriendOwner, "sg_"+BigGroup, 3, "", BigGroup, 5000, 0, ts(4*time.Hour))
	for i := 1; i <= 20; i++ {
		addConv(fmt.Sprintf("m%05d", i), "sg_"+BigGroup, 3, "", BigGroup, 5000, 7, ts(4*time.Hour))
	}
	conv.add("nulls", SingleConversationID("emoji", "nulls"), Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null, Null)
	convs = append(convs, Conversation{Owner: "nulls", ID: SingleConversationID("emoji", "nulls")})
	if err := conv.exec(ctx, db); err != nil {
		return nil, err
	}

	rest := []string{
		"INSERT INTO `object` VALUES ('obj/a.png','alice','h1','k1',1234,'image/png','avatar','2023-05-11 11:11:11.111'),('obj/n',NULL,NULL,NULL,NULL,NULL,NULL,NULL)",
		"INSERT INTO `logs` VALUES ('l1','ios','alice','2023-05-12 12:00:00.000','http://f/l1.zip','l1.zip','ios','3.4.2','lx'),('l2',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)",
		"INSERT INTO `signal` VALUES ('sid1','alice','cd1','big','roomA',30,'video',1,3,'2023-05-13 13:00:00.000','2023-05-13 13:10:00.000','http://f/r1','t1','d1','sx1','ding',1,'info1')," +
			"('sid1','alice','cd2','big','roomB',30,'audio',2,3,'2023-05-13 14:00:00.000',NULL,'','t2','d2','sx2','',0,'info2')",
		"INSERT INTO `signal_invitation` VALUES ('m00001','sid1',1,'2023-05-13 13:00:00.000','2023-05-13 13:00:05.000'),('m00001','sid1',2,'2023-05-13 14:00:00.000',NULL),('m00002','sid1',0,'0000-00-00 00:00:00',NULL)",
		"INSERT INTO `meeting` VALUES ('room1','standup','alice',1,1700000000,0,'2023-05-15 15:00:00.000','mx'),('room2',NULL,NULL,NULL,NULL,NULL,NULL,NULL)",
		"INSERT INTO `meeting_invitation` VALUES ('room1','m00002','2023-05-15 15:00:00.000'),('room1','m00003',NULL)",
		"INSERT INTO `meeting_video_record` VALUES ('room1','http://f/v1.mp4','2023-05-15 16:00:00.000'),('room1','http://f/v1.mp4','2023-05-15 16:00:00.000')," +
			"(NULL,NULL,NULL),(NULL,NULL,NULL),('','','0000-00-00 00:00:00'),('','','1970-01-01 08:00:00'),('ROOM1','http://f/v1.mp4','2023-05-15 16:00:00.000')",
	}
	for _, q := range rest {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("seed: %w\n%s", err, q)
		}
	}
	return convs, nil
}

// Tables are OpenIM 3.4's tables.
func Tables() []string {
	return []string{"users", "friends", "friend_requests", "blacks", "groups", "group_members", "group_requests",
		"conversations", "object", "logs", "signal", "signal_invitation", "meeting", "meeting_invitation",
		"meeting_video_record", "chat_logs"}
}

// SingleConversationID is OpenIM's id of the one-to-one conversation of a
// and b: si_ and the two ids in order.
func SingleConversationID(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return "si_" + a + "_" + b
}

// Conversation is one seeded conversation of one owner.
type Conversation struct {
	Owner, ID, Group string
	MaxSeq, MinSeq   int64 // the 3.4 table's columns (not authoritative)
}

// Seq is what SeedRedis wrote for one conversation.
type Seq struct {
	Max, Min int64
}

// SeedRedis writes OpenIM 3.7's seqs for the conversations: MAX_SEQ and
// MIN_SEQ per conversation, HAS_READ_SEQ and CON_USER_MIN_SEQ per owner.
// It returns the per-conversation values and the per-(owner, conversation)
// read seqs.
func SeedRedis(ctx context.Context, rdb redis.UniversalClient, convs []Conversation) (map[string]Seq, map[[2]string]int64, error) {
	seqs := map[string]Seq{}
	read := map[[2]string]int64{}
	pipe := rdb.Pipeline()
	for i, c := range convs {
		s, ok := seqs[c.ID]
		if !ok {
			s = Seq{Max: int64(100 + 7*i), Min: int64(i % 4)}
			if c.Group != "" {
				s = Seq{Max: 5000, Min: 0}
			}
			seqs[c.ID] = s
			pipe.Set(ctx, "MAX_SEQ:"+c.ID, s.Max, 0)
			if s.Min > 0 {
				pipe.Set(ctx, "MIN_SEQ:"+c.ID, s.Min, 0)
			}
		}
		r := s.Max - int64(i%5)
		read[[2]string{c.Owner, c.ID}] = r
		pipe.Set(ctx, "HAS_READ_SEQ:"+c.Owner+":"+c.ID, r, 0)
		if i%3 == 0 {
			pipe.Set(ctx, "CON_USER_MIN_SEQ:"+c.ID+"u:"+c.Owner, s.Min+1, 0)
		}
	}
	_, err := pipe.Exec(ctx)
	return seqs, read, err
}
