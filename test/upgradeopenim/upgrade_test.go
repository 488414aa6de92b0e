// Package upgradeopenim judges the migration by the real OpenIM 3.8.3: an
// OpenIM 3.4 MySQL dataset full of awkward values (internal/upgrade/upgradetest)
// and OpenIM 3.7 seqs in Redis are upgraded with the real
// `openim-supervisor upgrade --from 3.4.0`, the real OpenIM 3.8.3 is started
// on the result under `openim-supervisor run`, and everything is read back
// through OpenIM's own HTTP API and compared, field by field, with the
// source rows. It needs scripts/test-services.sh's environment (skipped
// without it, failed with OPENIM_TEST_STRICT=1); scripts/test.d/57-upgrade-openim.sh runs it.
package upgradeopenim

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/openimsdk/protocol/sdkws"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/openim-supervisor/openim-supervisor/internal/openimtest"
	"github.com/openim-supervisor/openim-supervisor/internal/upgrade/upgradetest"
	"github.com/openim-supervisor/openim-supervisor/migrations/openimmodel"
)

// row is one source row: column -> value (nil for NULL).
type row map[string]*string

// src reads source rows.
type src struct {
	t    *testing.T
	db   *sql.DB
	zone *time.Location
}

func (s src) rows(query string, args ...any) []row {
	s.t.Helper()
	rs, err := s.db.Query(query, args...)
	if err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []row
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			s.t.Fatal(err)
		}
		r := row{}
		for i, c := range cols {
			if vals[i].Valid {
				v := vals[i].String
				r[c] = &v
			} else {
				r[c] = nil
			}
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// What OpenIM 3.4 meant by a column, read independently of the migration:
// NULL text is "", NULL numbers 0, a DATETIME is a wall time in the zone the
// data was written in, and NULL or 0000-00-00 is "not set", which OpenIM
// reports as 0 ms.
func (r row) str(c string) string {
	if v := r[c]; v != nil {
		return *v
	}
	return ""
}

func (r row) num(c string) int64 {
	if v := r[c]; v != nil && *v != "" {
		n, err := strconv.ParseInt(*v, 10, 64)
		if err != nil {
			panic(err)
		}
		return n
	}
	return 0
}

func (r row) flag(c string) bool { return r.num(c) != 0 }

func (s src) ms(r row, c string) int64 {
	v := r[c]
	if v == nil || strings.HasPrefix(*v, "0000-00-00") {
		return 0
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999", *v, s.zone)
	if err != nil {
		s.t.Fatalf("%s %q: %v", c, *v, err)
	}
	return t.UnixMilli()
}

// diff collects field mismatches of one entity.
type diff struct {
	t    *testing.T
	what string
	n    int
}

func (d *diff) eq(field string, got, want any) {
	d.t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		d.n++
		if d.n <= 40 {
			d.t.Errorf("%s: %s = %q, source row says %q", d.what, field, fmt.Sprint(got), fmt.Sprint(want))
		}
	}
}

func TestUpgradeJudgedByOpenIM(t *testing.T) {
	env := openimtest.Require(t)
	dsn := os.Getenv("OPENIM_TEST_MYSQL_DSN")
	if dsn == "" {
		t.Fatal("OPENIM_TEST_MYSQL_DSN unset (scripts/test-services.sh start; . .cache/test-env.sh)")
	}
	bin := openimtest.BuildSupervisor(t)
	d := openimtest.New(t, env, openimtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	zone, err := time.LoadLocation(upgradetest.Zone)
	if err != nil {
		t.Fatal(err)
	}

	// 1. OpenIM 3.4's MySQL with the awkward dataset.
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	root, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	name := "e2e_" + d.ID
	if _, err := root.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = root.Exec("DROP DATABASE `" + name + "`") })
	cfg.DBName, cfg.MultiStatements = name, true
	sdb, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	convs, err := upgradetest.Seed(ctx, sdb)
	if err != nil {
		t.Fatal(err)
	}

	// 2. OpenIM 3.7's seqs in the deployment's Redis database.
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr, DB: d.RedisDB})
	defer rdb.Close()
	seqs, read, err := upgradetest.SeedRedis(ctx, rdb, convs)
	if err != nil {
		t.Fatal(err)
	}

	// 3. The real binary upgrades from 3.4.0 to the 3.8.3 it ships.
	cfg.MultiStatements = false
	up := exec.CommandContext(ctx, bin, "--config", d.SupervisorConfig, "upgrade", "--from", "3.4.0", "--yes",
		"--time-zone", upgradetest.Zone)
	up.Env = append(os.Environ(), "OPENIM_MYSQL_DSN="+cfg.FormatDSN())
	t0 := time.Now()
	out, err := up.CombinedOutput()
	if err != nil {
		t.Fatalf("openim-supervisor upgrade: %v\n%s", err, out)
	}
	t.Logf("upgrade took %.1f s:\n%s", time.Since(t0).Seconds(), out)

	// 4. The real OpenIM 3.8.3 on the result.
	sup := d.StartSupervisor(t, bin)
	usable := make(chan error, 1)
	go func() { usable <- d.WaitUsable(ctx) }()
	select {
	case err := <-usable:
		if err != nil {
			b, _ := os.ReadFile(sup.Output)
			t.Fatalf("%v\nsupervisor output:\n%s", err, b)
		}
	case <-sup.Done():
		b, _ := os.ReadFile(sup.Output)
		t.Fatalf("the supervisor exited before OpenIM was usable: %v\n%s", sup.Err(), b)
	}
	c := d.Client()
	s := src{t: t, db: sdb, zone: zone}

	t.Run("users", func(t *testing.T) { checkUsers(ctx, t, s, c) })
	t.Run("friends", func(t *testing.T) { checkFriends(ctx, t, s, c) })
	t.Run("blacks", func(t *testing.T) { checkBlacks(ctx, t, s, c) })
	t.Run("friend requests", func(t *testing.T) { checkFriendRequests(ctx, t, s, c) })
	t.Run("groups and members", func(t *testing.T) { checkGroups(ctx, t, s, c) })
	t.Run("group requests", func(t *testing.T) { checkGroupRequests(ctx, t, s, c) })
	t.Run("conversations", func(t *testing.T) { checkConversations(ctx, t, s, c) })
	t.Run("seqs", func(t *testing.T) { checkSeqs(ctx, t, env, d, c, convs, seqs, read) })
}

func checkUsers(ctx context.Context, t *testing.T, s src, c *openimtest.Client) {
	rows := s.rows("SELECT * FROM users")
	byID := map[string]row{}
	var ids []string
	for _, r := range rows {
		byID[r.str("user_id")] = r
		ids = append(ids, r.str("user_id"))
	}
	got := map[string]*sdkws.UserInfo{}
	for i := 0; i < len(ids); i += 200 {
		us, err := c.UsersInfo(ctx, ids[i:min(i+200, len(ids))]...)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			got[u.UserID] = u
		}
	}
	if len(got) != len(rows) {
		t.Errorf("OpenIM knows %d of the %d users", len(got), len(rows))
	}
	for id, r := range byID {
		u := got[id]
		if u == nil {
			t.Errorf("user %q: unknown to OpenIM", id)
			continue
		}
		d := &diff{t: t, what: "user " + strconv.Quote(id)}
		d.eq("nickname", u.Nickname, r.str("name"))
		d.eq("faceURL", u.FaceURL, r.str("face_url"))
		d.eq("ex", u.Ex, r.str("ex"))
		d.eq("createTime", u.CreateTime, s.ms(r, "create_time"))
		d.eq("appMangerLevel", u.AppMangerLevel, r.num("app_manger_level"))
		d.eq("globalRecvMsgOpt", u.GlobalRecvMsgOpt, r.num("global_recv_msg_opt"))
	}
	t.Logf("%d users compared", len(got))
}

func owners(s src, table, col string) []string {
	var out []string
	for _, r := range s.rows("SELECT DISTINCT `" + col + "` AS id FROM `" + table + "`") {
		out = append(out, r.str("id"))
	}
	return out
}

func checkFriends(ctx context.Context, t *testing.T, s src, c *openimtest.Client) {
	n := 0
	for _, owner := range owners(s, "friends", "owner_user_id") {
		rows := s.rows("SELECT * FROM friends WHERE owner_user_id = ?", owner)
		// OpenIM 3.8 lists friends by {is_pinned: -1, _id: 1}: none is pinned
		// after an upgrade, and _id carries the time the friend was added.
		sort.SliceStable(rows, func(i, j int) bool { return s.ms(rows[i], "create_time") < s.ms(rows[j], "create_time") })
		fs, err := c.FriendList(ctx, owner)
		if err != nil {
			t.Fatalf("friends of %q: %v", owner, err)
		}
		if len(fs) != len(rows) {
			t.Errorf("friends of %q: OpenIM lists %d, MySQL has %d", owner, len(fs), len(rows))
			continue
		}
		for i, f := range fs {
			r := rows[i]
			d := &diff{t: t, what: fmt.Sprintf("friend %d of %q", i, owner)}
			if f.FriendUser == nil {
				t.Errorf("%s: no friendUser", d.what)
				continue
			}
			// Equal create times may come in either order. OpenIM answers
			// seconds here (convert.FriendsDB2Pb: CreateTime.Unix()).
			if f.FriendUser.UserID != r.str("friend_user_id") && s.ms(r, "create_time")/1000 != f.CreateTime {
				d.eq("friendUser.userID (order by time added)", f.FriendUser.UserID, r.str("friend_user_id"))
				continue
			}
			for _, rr := range rows {
				if rr.str("friend_user_id") == f.FriendUser.UserID {
					r = rr
				}
			}
			d.eq("ownerUserID", f.OwnerUserID, owner)
			d.eq("remark", f.Remark, r.str("remark"))
			d.eq("createTime (s)", f.CreateTime, s.ms(r, "create_time")/1000)
			d.eq("addSource", f.AddSource, r.num("add_source"))
			d.eq("operatorUserID", f.OperatorUserID, r.str("operator_user_id"))
			d.eq("ex", f.Ex, r.str("ex"))
			d.eq("isPinned", f.IsPinned, false)
			n++
		}
	}
	t.Logf("%d friendships compared, in OpenIM's order", n)
}

func checkBlacks(ctx context.Context, t *testing.T, s src, c *openimtest.Client) {
	n := 0
	for _, owner := range owners(s, "blacks", "owner_user_id") {
		rows := s.rows("SELECT * FROM blacks WHERE owner_user_id = ?", owner)
		bs, err := c.Blacks(ctx, owner)
		if err != nil {
			t.Fatalf("blacklist of %q: %v", owner, err)
		}
		if len(bs) != len(rows) {
			t.Errorf("blacklist of %q: OpenIM lists %d, MySQL has %d", owner, len(bs), len(rows))
		}
		for _, r := range rows {
			var b *sdkws.BlackInfo
			for _, x := range bs {
				if x.BlackUserInfo != nil && x.BlackUserInfo.UserID == r.str("block_user_id") {
					b = x
				}
			}
			if b == nil {
				t.Errorf("blacklist of %q: %q missing", owner, r.str("block_user_id"))
				continue
			}
			d := &diff{t: t, what: fmt.Sprintf("black %q of %q", r.str("block_user_id"), owner)}
			d.eq("createTime (s, convert.BlackDB2Pb: Unix())", b.CreateTime, s.ms(r, "create_time")/1000)
			d.eq("addSource", b.AddSource, r.num("add_source"))
			d.eq("operatorUserID", b.OperatorUserID, r.str("operator_user_id"))
			d.eq("ex", b.Ex, r.str("ex"))
			n++
		}
	}
	t.Logf("%d blacklist entries compared", n)
}

func checkFriendRequests(ctx context.Context, t *testing.T, s src, c *openimtest.Client) {
	n := 0
	for _, to := range owners(s, "friend_requests", "to_user_id") {
		rows := s.rows("SELECT * FROM friend_requests WHERE to_user_id = ?", to)
		reqs, err := c.FriendRequestsTo(ctx, to)
		if err != nil {
			t.Fatalf("friend requests to %q: %v", to, err)
		}
		if len(reqs) != len(rows) {
			t.Errorf("friend requests to %q: OpenIM lists %d, MySQL has %d", to, len(reqs), len(rows))
		}
		for _, r := range rows {
			var q *sdkws.FriendRequest
			for _, x := range reqs {
				if x.FromUserID == r.str("from_user_id") {
					q = x
				}
			}
			if q == nil {
				t.Errorf("friend request %q -> %q missing", r.str("from_user_id"), to)
				continue
			}
			d := &diff{t: t, what: fmt.Sprintf("friend request %q -> %q", r.str("from_user_id"), to)}
			d.eq("handleResult", q.HandleResult, r.num("handle_result"))
			d.eq("reqMsg", q.ReqMsg, r.str("req_msg"))
			d.eq("createTime", q.CreateTime, s.ms(r, "create_time"))
			d.eq("handlerUserID", q.HandlerUserID, r.str("handler_user_id"))
			d.eq("handleMsg", q.HandleMsg, r.str("handle_msg"))
			d.eq("handleTime", q.HandleTime, s.ms(r, "handle_time"))
			d.eq("ex", q.Ex, r.str("ex"))
			n++
		}
	}
	t.Logf("%d friend requests compared", n)
}

func checkGroups(ctx context.Context, t *testing.T, s src, c *openimtest.Client) {
	groups := s.rows("SELECT * FROM `groups`")
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.str("group_id"))
	}
	infos, err := c.GroupsInfo(ctx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != len(groups) {
		t.Errorf("OpenIM knows %d of the %d groups", len(infos), len(groups))
	}
	members := 0
	for _, g := range groups {
		id := g.str("group_id")
		var gi *sdkws.GroupInfo
		for _, x := range infos {
			if x.GroupID == id {
				gi = x
			}
		}
		if gi == nil {
			t.Errorf("group %q: unknown to OpenIM", id)
			continue
		}
		rows := s.rows("SELECT * FROM group_members WHERE group_id = ?", id)
		d := &diff{t: t, what: "group " + strconv.Quote(id)}
		d.eq("groupName", gi.GroupName, g.str("name"))
		d.eq("notification", gi.Notification, g.str("notification"))
		d.eq("introduction", gi.Introduction, g.str("introduction"))
		d.eq("faceURL", gi.FaceURL, g.str("face_url"))
		d.eq("createTime", gi.CreateTime, s.ms(g, "create_time"))
		d.eq("ex", gi.Ex, g.str("ex"))
		d.eq("status", gi.Status, g.num("status"))
		d.eq("creatorUserID", gi.CreatorUserID, g.str("creator_user_id"))
		d.eq("groupType", gi.GroupType, g.num("group_type"))
		d.eq("needVerification", gi.NeedVerification, g.num("need_verification"))
		d.eq("lookMemberInfo", gi.LookMemberInfo, g.num("look_member_info"))
		d.eq("applyMemberFriend", gi.ApplyMemberFriend, g.num("apply_member_friend"))
		d.eq("notificationUpdateTime", gi.NotificationUpdateTime, s.ms(g, "notification_update_time"))
		d.eq("notificationUserID", gi.NotificationUserID, g.str("notification_user_id"))
		d.eq("memberCount", gi.MemberCount, len(rows))
		owner := ""
		for _, r := range rows {
			if r.num("role_level") == 100 {
				owner = r.str("user_id")
			}
		}
		d.eq("ownerUserID", gi.OwnerUserID, owner)

		ms, err := c.GroupMembers(ctx, id)
		if err != nil {
			t.Fatalf("members of %q: %v", id, err)
		}
		if len(ms) != len(rows) {
			t.Errorf("members of %q: OpenIM lists %d, MySQL has %d", id, len(ms), len(rows))
		}
		got := map[string]*sdkws.GroupMemberFullInfo{}
		for _, m := range ms {
			got[m.UserID] = m
		}
		for _, r := range rows {
			m := got[r.str("user_id")]
			if m == nil {
				t.Errorf("member %q of %q: missing", r.str("user_id"), id)
				continue
			}
			d := &diff{t: t, what: fmt.Sprintf("member %q of %q", r.str("user_id"), id)}
			// OpenIM shows the user's nickname when the member has none
			// (rpc/group/group.go: member.Nickname = userMap[...].Nickname).
			if r.str("nickname") != "" {
				d.eq("nickname", m.Nickname, r.str("nickname"))
			}
			if r.str("user_group_face_url") != "" { // OpenIM shows the user's face when the member has none
				d.eq("faceURL", m.FaceURL, r.str("user_group_face_url"))
			}
			d.eq("roleLevel", m.RoleLevel, r.num("role_level"))
			d.eq("joinTime", m.JoinTime, s.ms(r, "join_time"))
			d.eq("joinSource", m.JoinSource, r.num("join_source"))
			d.eq("inviterUserID", m.InviterUserID, r.str("inviter_user_id"))
			d.eq("operatorUserID", m.OperatorUserID, r.str("operator_user_id"))
			d.eq("muteEndTime", m.MuteEndTime, s.ms(r, "mute_end_time"))
			d.eq("ex", m.Ex, r.str("ex"))
			members++
		}
	}
	t.Logf("%d groups and %d members compared", len(groups), members)
}

func checkGroupRequests(ctx context.Context, t *testing.T, s src, c *openimtest.Client) {
	n := 0
	for _, user := range owners(s, "group_requests", "user_id") {
		rows := s.rows("SELECT * FROM group_requests WHERE user_id = ?", user)
		reqs, err := c.GroupRequestsFrom(ctx, user)
		if err != nil {
			t.Fatalf("group requests of %q: %v", user, err)
		}
		if len(reqs) != len(rows) {
			t.Errorf("group requests of %q: OpenIM lists %d, MySQL has %d", user, len(reqs), len(rows))
		}
		for _, r := range rows {
			var q *sdkws.GroupRequest
			for _, x := range reqs {
				if x.GroupInfo != nil && x.GroupInfo.GroupID == r.str("group_id") {
					q = x
				}
			}
			if q == nil {
				t.Errorf("group request %q -> %q missing", user, r.str("group_id"))
				continue
			}
			d := &diff{t: t, what: fmt.Sprintf("group request %q -> %q", user, r.str("group_id"))}
			d.eq("handleResult", q.HandleResult, r.num("handle_result"))
			d.eq("reqMsg", q.ReqMsg, r.str("req_msg"))
			d.eq("handleMsg", q.HandleMsg, r.str("handle_msg"))
			d.eq("reqTime", q.ReqTime, s.ms(r, "req_time"))
			d.eq("handleUserID", q.HandleUserID, r.str("handle_user_id"))
			d.eq("handleTime", q.HandleTime, s.ms(r, "handle_time"))
			d.eq("joinSource", q.JoinSource, r.num("join_source"))
			d.eq("inviterUserID", q.InviterUserID, r.str("inviter_user_id"))
			d.eq("ex", q.Ex, r.str("ex"))
			n++
		}
	}
	t.Logf("%d group requests compared", n)
}

func checkConversations(ctx context.Context, t *testing.T, s src, c *openimtest.Client) {
	n := 0
	for _, owner := range owners(s, "conversations", "owner_user_id") {
		rows := s.rows("SELECT * FROM conversations WHERE owner_user_id = ?", owner)
		cs, err := c.Conversations(ctx, owner)
		if err != nil {
			t.Fatalf("conversations of %q: %v", owner, err)
		}
		if len(cs) != len(rows) {
			t.Errorf("conversations of %q: OpenIM lists %d, MySQL has %d", owner, len(cs), len(rows))
		}
		for _, r := range rows {
			id := r.str("conversation_id")
			var cv any
			for _, x := range cs {
				if x.ConversationID == id {
					cv = x
					d := &diff{t: t, what: fmt.Sprintf("conversation %q of %q", id, owner)}
					d.eq("conversationType", x.ConversationType, r.num("conversation_type"))
					d.eq("userID", x.UserID, r.str("user_id"))
					d.eq("groupID", x.GroupID, r.str("group_id"))
					d.eq("recvMsgOpt", x.RecvMsgOpt, r.num("recv_msg_opt"))
					d.eq("isPinned", x.IsPinned, r.flag("is_pinned"))
					d.eq("isPrivateChat", x.IsPrivateChat, r.flag("is_private_chat"))
					d.eq("burnDuration", x.BurnDuration, r.num("burn_duration"))
					d.eq("groupAtType", x.GroupAtType, r.num("group_at_type"))
					d.eq("attachedInfo", x.AttachedInfo, r.str("attached_info"))
					d.eq("ex", x.Ex, r.str("ex"))
					d.eq("maxSeq", x.MaxSeq, r.num("max_seq"))
					d.eq("minSeq", x.MinSeq, r.num("min_seq"))
					d.eq("isMsgDestruct", x.IsMsgDestruct, r.flag("is_msg_destruct"))
					d.eq("msgDestructTime", x.MsgDestructTime, r.num("msg_destruct_time"))
					d.eq("latestMsgDestructTime", x.LatestMsgDestructTime, s.ms(r, "latest_msg_destruct_time"))
					n++
				}
			}
			if cv == nil {
				t.Errorf("conversation %q of %q missing", id, owner)
			}
		}
	}
	t.Logf("%d conversations compared", n)
}

func checkSeqs(ctx context.Context, t *testing.T, env openimtest.Env, d *openimtest.Deployment, c *openimtest.Client,
	convs []upgradetest.Conversation, seqs map[string]upgradetest.Seq, read map[[2]string]int64) {
	byOwner := map[string][]string{}
	convMax := map[[2]string]int64{}
	for _, cv := range convs {
		byOwner[cv.Owner] = append(byOwner[cv.Owner], cv.ID)
		convMax[[2]string{cv.Owner, cv.ID}] = cv.MaxSeq
	}
	n := 0
	for owner, ids := range byOwner {
		got, err := c.HasReadAndMaxSeqs(ctx, owner, ids...)
		if err != nil {
			t.Fatalf("seqs of %q: %v", owner, err)
		}
		newest, err := c.NewestSeqs(ctx, owner)
		if err != nil {
			t.Fatalf("newest seqs of %q: %v", owner, err)
		}
		for _, id := range ids {
			want, ok := seqs[id]
			if !ok {
				continue // no seq in Redis
			}
			g := got[id]
			if g == nil {
				t.Errorf("seqs of %q in %q: none", owner, id)
				continue
			}
			dd := &diff{t: t, what: fmt.Sprintf("seqs of %q in %q", owner, id)}
			// OpenIM 3.8.3 answers a conversation's own max_seq (the 3.4
			// column the 3.5 step carries) over the seq collection when it
			// is not 0 (rpc/msg/as_read.go GetConversationsHasReadAndMaxSeq);
			// newest_seq reads the seq collection alone.
			wantMax := want.Max
			if m := convMax[[2]string{owner, id}]; m != 0 {
				wantMax = m
			}
			dd.eq("maxSeq", g.MaxSeq, wantMax)
			dd.eq("hasReadSeq", g.HasReadSeq, read[[2]string{owner, id}])
			dd.eq("newest_seq maxSeqs", newest.MaxSeqs[id], want.Max)
			n++
		}
	}
	t.Logf("max and read seqs of %d (owner, conversation) pairs compared through the message API", n)

	// Min seqs have no read API in 3.8.3; they are checked in MongoDB with
	// OpenIM's model types (the mirror test/openimmodels proves equal).
	cl, err := mongo.Connect(ctx, options.Client().ApplyURI(env.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Disconnect(ctx)
	db := cl.Database(d.MongoDatabase)
	for id, want := range seqs {
		var m openimmodel.SeqConversation
		if err := db.Collection("seq").FindOne(ctx, bson.M{"conversation_id": id}).Decode(&m); err != nil {
			t.Errorf("seq of %q: %v", id, err)
			continue
		}
		if m.MinSeq != want.Min || m.MaxSeq < want.Max {
			t.Errorf("seq of %q: min %d max %d, Redis had MIN_SEQ %d MAX_SEQ %d", id, m.MinSeq, m.MaxSeq, want.Min, want.Max)
		}
	}

	// A new message continues the migrated seq: msgtransfer allocates from
	// the seq collection, so a conversation it did not find there would
	// start again at 1.
	conv := upgradetest.SingleConversationID(upgradetest.FriendOwner, "f001")
	before := seqs[conv].Max
	if _, err := c.SendText(ctx, upgradetest.FriendOwner, "f001", "after the upgrade"); err != nil {
		if openimtest.IsFerretDBLimit(err) {
			t.Logf("sending a message: the FerretDB test server cannot allocate seqs (%v)", err)
			return
		}
		t.Fatalf("send a message: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		// newest_seq: the seq collection's max (the conversation's own
		// max_seq column would hide it in get_conversations_has_read_and_max_seq).
		got, err := c.NewestSeqs(ctx, upgradetest.FriendOwner)
		if err == nil && got.MaxSeqs[conv] == before+1 {
			t.Logf("a new message in %s got seq %d (migrated max %d)", conv, before+1, before)
			break
		}
		if time.Now().After(deadline) {
			var have int64
			if got != nil {
				have = got.MaxSeqs[conv]
			}
			t.Fatalf("after sending a message to %s: newest seq %d (%v), want %d", conv, have, err, before+1)
		}
		time.Sleep(500 * time.Millisecond)
	}
	msgs, err := c.PullMessages(ctx, upgradetest.FriendOwner, conv, before+1, before+1)
	if err != nil || msgs.Msgs[conv] == nil || len(msgs.Msgs[conv].Msgs) != 1 || msgs.Msgs[conv].Msgs[0].Seq != before+1 {
		t.Errorf("pull seq %d of %s: %+v %v", before+1, conv, msgs, err)
	}
}
