// Package realopenim is the proof that openim-supervisor runs the real
// OpenIM 3.8.3: the full 26-instance set under `openim-supervisor run` on the
// test component servers, an API smoke test through OpenIM's own HTTP API
// (users, friends, groups, and messages stored and read back by seq), and
// SIGKILLed instances that come back. It needs the environment of
// scripts/test-services.sh (skipped without it, failed with
// OPENIM_TEST_STRICT=1); scripts/test.d/55-real-openim.sh runs it.
package realopenim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openimsdk/protocol/sdkws"

	"github.com/openim-supervisor/openim-supervisor/internal/openimtest"
)

func TestRealOpenIM(t *testing.T) {
	env := openimtest.Require(t)
	bin := openimtest.BuildSupervisor(t)
	d := openimtest.New(t, env, openimtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	t0 := time.Now()
	sup := d.StartSupervisor(t, bin)
	sup.WaitUsable(ctx, t, d)
	t.Logf("start -> usable: %.1f s (supervisor start to the API answering through every RPC service)", time.Since(t0).Seconds())

	want := 0
	for _, s := range d.Services {
		want += d.Instances[s]
	}
	// The supervisor starts the set in order; the API may be usable before
	// the last instances (msgtransfer, msggateway, crontask) run.
	ps := waitProcs(ctx, t, d, want)
	t.Logf("start -> all %d instances in /proc: %.1f s", want, time.Since(t0).Seconds())
	t.Logf("/proc: %d OpenIM instances running", len(ps))

	// The 8 msgtransfer (and push) instances join their Kafka consumer
	// groups one after another, each join a rebalance in which OpenIM may
	// deliver a batch twice (it reads Kafka at least once). The strict
	// rounds below start once the groups have settled; the kill round
	// checks at-least-once storage during a rebalance.
	settled := waitKafkaSettled(ctx, t, d)
	t.Logf("start -> Kafka consumer groups settled %v: %.1f s", settled, time.Since(t0).Seconds())

	c := d.Client()
	ids, groupID := smoke(ctx, t, c, "a")
	messaging(ctx, t, d, c, "a", ids, groupID)

	// kill -9 an openim-api and an openim-msgtransfer; judge from /proc.
	// Messages sent into group a while the msgtransfer is dead and while its
	// Kafka consumer groups rebalance must all be stored.
	members, err := d.KafkaMembers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var during []openimtest.Sent
	sendDuring := func(when string) {
		t.Helper()
		for _, id := range ids {
			text := fmt.Sprintf("a: %s to the group %s", id, when)
			r, err := c.SendGroupText(ctx, id, groupID, text)
			if err != nil {
				t.Fatal(err)
			}
			during = append(during, openimtest.Sent{ConversationID: openimtest.GroupConversationID(groupID), SendID: id, Text: text, ClientMsgID: r.ClientMsgID})
		}
	}
	for _, k := range []struct {
		name  string
		index int
	}{{"openim-api", 0}, {"openim-msgtransfer", 3}} {
		old, ok, err := d.Find(k.name, k.index)
		if err != nil || !ok {
			t.Fatalf("%s:%d not in /proc (%v)", k.name, k.index, err)
		}
		killed := time.Now()
		if err := old.Kill(); err != nil {
			t.Fatalf("kill -9 %s:%d (pid %d): %v", k.name, k.index, old.PID, err)
		}
		if k.name == "openim-msgtransfer" {
			sendDuring("while a msgtransfer is dead")
		}
		back := waitRestarted(ctx, t, d, old)
		t.Logf("%s:%d pid %d killed; back as pid %d after %.2f s", k.name, k.index, old.PID, back.PID, time.Since(killed).Seconds())
		if err := d.WaitUsable(ctx); err != nil {
			t.Fatalf("after killing %s:%d: %v", k.name, k.index, err)
		}
		t.Logf("API usable again %.2f s after the kill", time.Since(killed).Seconds())
	}
	sendDuring("after the msgtransfer is back")
	t1 := time.Now()
	lctx, lcancel := context.WithTimeout(ctx, 3*time.Minute)
	copies, err := c.WaitMessagesAtLeastOnce(lctx, ids[2], during)
	lcancel()
	if err != nil {
		t.Fatalf("%v\n%s", err, stored(ctx, d, openimtest.GroupConversationID(groupID)))
	}
	var dups []string
	for i, ms := range copies {
		if len(ms) > 1 {
			dups = append(dups, fmt.Sprintf("%q stored %d times", during[i].Text, len(ms)))
		}
	}
	t.Logf("messages sent around the msgtransfer kill: all %d stored, pulled %.1f s after the last send; stored twice (OpenIM reads Kafka at least once): %d %v",
		len(during), time.Since(t1).Seconds(), len(dups), dups)
	// The killed consumer leaves its Kafka groups when its session times
	// out; until then the groups rebalance, and OpenIM may store a message
	// twice (above). From here on the groups are stable.
	kctx, kcancel := context.WithTimeout(ctx, 2*time.Minute)
	err = d.WaitKafkaMembers(kctx, members)
	kcancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Kafka consumer groups stable again with %v members, %.1f s after the last send", members, time.Since(t1).Seconds())

	// The API answers real requests again, with the data from before, and
	// the restarted openim-msgtransfer stores messages.
	groupA := groupID
	ids, groupID = smoke(ctx, t, c, "b")
	messaging(ctx, t, d, c, "b", ids, groupID)
	if fs, err := c.FriendList(ctx, "smoke_a_1"); err != nil || len(fs) != 1 {
		t.Fatalf("friends of smoke_a_1 after the kills: %d, %v", len(fs), err)
	}
	if min, err := c.MinSeq(ctx, "smoke_a_3", openimtest.GroupConversationID(groupA)); err != nil || min != 1 {
		t.Fatalf("min seq of group a for smoke_a_3: %d, %v; want 1", min, err)
	}
}

// smoke: register users, read them back, add a friend, create a group,
// list its members. It returns the user IDs (the first two are friends) and
// the group (all three are members, the first the owner).
func smoke(ctx context.Context, t *testing.T, c *openimtest.Client, tag string) ([]string, string) {
	t.Helper()
	ids := []string{}
	var users []*sdkws.UserInfo
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("smoke_%s_%d", tag, i)
		ids = append(ids, id)
		users = append(users, &sdkws.UserInfo{UserID: id, Nickname: "Smoke " + id, FaceURL: "https://example.invalid/" + id})
	}
	if err := c.RegisterUsers(ctx, users...); err != nil {
		t.Fatal(err)
	}
	got, err := c.UsersInfo(ctx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("get_users_info: %d users, want %d", len(got), len(ids))
	}
	byID := map[string]*sdkws.UserInfo{}
	for _, u := range got {
		byID[u.UserID] = u
	}
	for _, u := range users {
		g := byID[u.UserID]
		if g == nil || g.Nickname != u.Nickname || g.FaceURL != u.FaceURL {
			t.Fatalf("user %s read back as %+v, want nickname %q faceURL %q", u.UserID, g, u.Nickname, u.FaceURL)
		}
	}
	// Needs test/ferretdb/patches (OpenIM writes its version log with a
	// findAndModify pipeline update).
	if err := c.ImportFriends(ctx, ids[0], ids[1]); err != nil {
		t.Fatal(err)
	}
	fs, err := c.FriendList(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].FriendUser == nil || fs[0].FriendUser.UserID != ids[1] {
		t.Fatalf("friends of %s: %+v, want %s", ids[0], fs, ids[1])
	}
	g, err := c.CreateGroup(ctx, "smoke group "+tag, ids[0], ids[1], ids[2])
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.GroupMembers(ctx, g.GroupID)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]int32{}
	for _, m := range ms {
		roles[m.UserID] = m.RoleLevel
	}
	if len(ms) != 3 || roles[ids[0]] != 100 {
		t.Fatalf("members of group %s: %v, want %v with %s the owner (roleLevel 100)", g.GroupID, roles, ids, ids[0])
	}
	t.Logf("smoke %s: 3 users registered and read back, a friend, group %s with 3 members", tag, g.GroupID)
	return ids, g.GroupID
}

// waitProcs waits until /proc shows want processes of the deployment, each
// a distinct (name, index).
func waitProcs(ctx context.Context, t *testing.T, d *openimtest.Deployment, want int) []openimtest.Proc {
	t.Helper()
	for {
		ps, err := d.Procs()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, p := range ps {
			if p.Index >= 0 {
				seen[fmt.Sprintf("%s:%d", p.Name, p.Index)] = true
			}
		}
		if len(seen) == want && len(ps) == want {
			return ps
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/proc shows %d processes of the deployment (%d distinct instances), want %d: %v", len(ps), len(seen), want, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitRestarted waits until /proc shows old's command line again under a new
// process (another PID, or the same PID with another start time).
func waitRestarted(ctx context.Context, t *testing.T, d *openimtest.Deployment, old openimtest.Proc) openimtest.Proc {
	t.Helper()
	for {
		p, ok, err := d.Find(old.Name, old.Index)
		if err != nil {
			t.Fatal(err)
		}
		if ok && p.Same(old) && (p.PID != old.PID || p.Start != old.Start) {
			return p
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s:%d (pid %d) did not come back: %v", old.Name, old.Index, old.PID, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitKafkaSettled waits until every consumer group of d is Stable with a
// member count that has not changed for 3 s, and returns the counts.
func waitKafkaSettled(ctx context.Context, t *testing.T, d *openimtest.Deployment) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last string
	var since time.Time
	for {
		got, err := d.KafkaMembers(ctx)
		ok := err == nil
		for _, n := range got {
			ok = ok && n > 0
		}
		switch {
		case !ok:
			last = ""
		case fmt.Sprint(got) != last:
			last, since = fmt.Sprint(got), time.Now()
		case time.Since(since) >= 3*time.Second:
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Kafka consumer groups did not settle: %v (%v)", got, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
