package realopenim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openimsdk/protocol/constant"
	"github.com/openimsdk/protocol/msg"
	"github.com/openimsdk/protocol/sdkws"

	"github.com/openim-supervisor/openim-supervisor/internal/openimtest"
)

// messaging sends messages between two friends (both ways) and into a group
// through /msg/send_msg, then judges through OpenIM's API only: every member
// pulls every message by seq, with its sender and text, in send order and
// with the same seq for all; /msg/newest_seq and
// /msg/get_conversations_has_read_and_max_seq give the last seq and the
// senders' read seqs; the messages are read again from Mongo once OpenIM's
// Redis cache of them is gone; the sorted conversation list shows the last
// message; and clearing a chat raises that user's min seq (the conversation
// shows it, older messages are no longer pulled, a new one is).
func messaging(ctx context.Context, t *testing.T, d *openimtest.Deployment, c *openimtest.Client, tag string, ids []string, groupID string) {
	t.Helper()
	single := openimtest.SingleConversationID(ids[0], ids[1])
	group := openimtest.GroupConversationID(groupID)
	var singleSent, groupSent []openimtest.Sent
	t0 := time.Now()
	send := func(from, to string, toGroup bool, text string) {
		t.Helper()
		var r interface{ GetClientMsgID() string }
		var err error
		if toGroup {
			r, err = c.SendGroupText(ctx, from, to, text)
		} else {
			r, err = c.SendText(ctx, from, to, text)
		}
		if err != nil {
			t.Fatal(err)
		}
		s := openimtest.Sent{SendID: from, Text: text, ClientMsgID: r.GetClientMsgID()}
		if toGroup {
			s.ConversationID = group
			groupSent = append(groupSent, s)
		} else {
			s.ConversationID = single
			singleSent = append(singleSent, s)
		}
	}
	for i := range 3 {
		send(ids[0], ids[1], false, fmt.Sprintf("%s: %s to %s #%d", tag, ids[0], ids[1], i))
	}
	for i := range 2 {
		send(ids[1], ids[0], false, fmt.Sprintf("%s: %s to %s #%d ✓", tag, ids[1], ids[0], i))
	}
	for _, id := range ids {
		send(id, groupID, true, fmt.Sprintf("%s: %s to the group", tag, id))
	}

	// Every member pulls every message, with the same seqs.
	wait := func(user string, want []openimtest.Sent, limit time.Duration) []*sdkws.MsgData {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		got, err := c.WaitMessages(wctx, user, want)
		if err != nil {
			t.Fatalf("%v\n%s", err, stored(ctx, d, single, group))
		}
		return got
	}
	seqsOf := func(ms []*sdkws.MsgData) []int64 {
		var s []int64
		for _, m := range ms {
			s = append(s, m.Seq)
		}
		return s
	}
	first := wait(ids[0], singleSent, 3*time.Minute)
	t.Logf("messages %s: %d single-chat messages stored and pulled %.1f s after the first send, seqs %v",
		tag, len(first), time.Since(t0).Seconds(), seqsOf(first))
	if got := wait(ids[1], singleSent, time.Minute); fmt.Sprint(seqsOf(got)) != fmt.Sprint(seqsOf(first)) {
		t.Fatalf("%s pulls seqs %v of %s, %s pulls %v", ids[1], seqsOf(got), single, ids[0], seqsOf(first))
	}
	groupMsgs := wait(ids[0], groupSent, 3*time.Minute)
	for _, id := range ids[1:] {
		if got := wait(id, groupSent, time.Minute); fmt.Sprint(seqsOf(got)) != fmt.Sprint(seqsOf(groupMsgs)) {
			t.Fatalf("%s pulls seqs %v of %s, %s pulls %v", id, seqsOf(got), group, ids[0], seqsOf(groupMsgs))
		}
	}
	t.Logf("messages %s: %d group messages pulled by all 3 members, seqs %v", tag, len(groupMsgs), seqsOf(groupMsgs))

	// Max seq: the last message's, through /msg/newest_seq and
	// /msg/get_conversations_has_read_and_max_seq. The read seq of each
	// sender is the seq of its own last message.
	maxSingle, maxGroup := first[len(first)-1].Seq, groupMsgs[len(groupMsgs)-1].Seq
	for _, id := range ids[:2] {
		ns, err := c.NewestSeqs(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ns.MaxSeqs[single] != maxSingle || ns.MaxSeqs[group] != maxGroup {
			t.Fatalf("newest_seq of %s: %v; want %s=%d and %s=%d", id, ns.MaxSeqs, single, maxSingle, group, maxGroup)
		}
	}
	readSeq := map[string]int64{ids[0]: first[2].Seq, ids[1]: first[4].Seq}
	waitFor(ctx, t, time.Minute, "read and max seqs", func() error {
		for id, read := range readSeq {
			s, err := c.HasReadAndMaxSeqs(ctx, id, single)
			if err != nil {
				return err
			}
			if s[single] == nil || s[single].MaxSeq != maxSingle || s[single].HasReadSeq != read {
				return fmt.Errorf("%s: %v, want maxSeq %d hasReadSeq %d", id, s[single], maxSingle, read)
			}
		}
		return nil
	})

	// From Mongo: without OpenIM's Redis cache of the messages, the same
	// messages come back (FerretDB needs test/ferretdb/patches/0002). First
	// wait until openim-msgtransfer has written them to Mongo (see
	// WaitStored).
	sctx, scancel := context.WithTimeout(ctx, 2*time.Minute)
	for _, sent := range [][]openimtest.Sent{singleSent, groupSent} {
		if err := d.WaitStored(sctx, sent); err != nil {
			scancel()
			t.Fatalf("%v\n%s", err, stored(ctx, d, single, group))
		}
	}
	scancel()
	n, err := d.DropMessageCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no MSG_CACHE keys in Redis database %d: OpenIM caches sent messages there; the Mongo read below would prove nothing", d.RedisDB)
	}
	again := wait(ids[1], singleSent, 30*time.Second)
	groupAgain := wait(ids[2], groupSent, 30*time.Second)
	if fmt.Sprint(seqsOf(again), seqsOf(groupAgain)) != fmt.Sprint(seqsOf(first), seqsOf(groupMsgs)) {
		t.Fatalf("from Mongo: seqs %v and %v, from the cache %v and %v\n%s", seqsOf(again), seqsOf(groupAgain), seqsOf(first), seqsOf(groupMsgs), stored(ctx, d, single, group))
	}
	t.Logf("messages %s: %d cached messages dropped from Redis; all read back from Mongo", tag, n)

	// The admin's search (/msg/search_msg, FerretDB needs
	// test/ferretdb/patches/0003) finds exactly what each filter selects,
	// with the seqs pulled above.
	pulled := map[string]*sdkws.MsgData{}
	for _, m := range append(append([]*sdkws.MsgData{}, first...), groupMsgs...) {
		pulled[m.ClientMsgID] = m
	}
	for _, q := range []struct {
		req  *msg.SearchMessageReq
		want []openimtest.Sent
	}{
		{&msg.SearchMessageReq{SendID: ids[0]}, append(append([]openimtest.Sent{}, singleSent[:3]...), groupSent[0])},
		{&msg.SearchMessageReq{SendID: ids[1], RecvID: ids[0], SessionType: constant.SingleChatType, ContentType: constant.Text}, singleSent[3:5]},
		{&msg.SearchMessageReq{RecvID: groupID, ContentType: constant.Text}, groupSent},
	} {
		sr, err := c.SearchMessages(ctx, q.req)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, l := range sr.ChatLogs {
			cl := l.ChatLog
			got[cl.ClientMsgID] = fmt.Sprintf("seq %d from %s: %s", cl.Seq, cl.SendID, cl.Content)
		}
		want := map[string]string{}
		for _, w := range q.want {
			m := pulled[w.ClientMsgID]
			want[w.ClientMsgID] = fmt.Sprintf("seq %d from %s: %s", m.Seq, m.SendID, m.Content)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || int(sr.ChatLogsNum) != len(want) {
			t.Fatalf("search %+v: %d found %v, want %v", q.req, sr.ChatLogsNum, got, want)
		}
	}
	t.Logf("messages %s: the admin's search by sender, receiver, session and content type finds them", tag)

	// The client's conversation list: the last message of each chat.
	sorted, err := c.SortedConversations(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for _, e := range sorted.ConversationElems {
		if e.MsgInfo != nil {
			last[e.ConversationID] = e.MsgInfo.Content
		}
	}
	for conv, m := range map[string]*sdkws.MsgData{single: first[len(first)-1], group: groupMsgs[len(groupMsgs)-1]} {
		if last[conv] != string(m.Content) {
			t.Fatalf("sorted conversation list of %s: last message of %s is %q, want %q", ids[1], conv, last[conv], m.Content)
		}
	}

	// Min seq: ids[1] clears the single chat for itself.
	if err := c.ClearConversations(ctx, ids[1], single); err != nil {
		t.Fatal(err)
	}
	minSeqs := map[string]int64{ids[1]: maxSingle + 1, ids[0]: 0}
	for id, want := range minSeqs {
		convs, err := c.Conversations(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got *int64
		for _, cv := range convs {
			if cv.ConversationID == single {
				got = &cv.MinSeq
			}
		}
		if got == nil || *got != want {
			t.Fatalf("conversation %s of %s: minSeq %v, want %d", single, id, got, want)
		}
	}
	// The same through MinSeq/MaxSeq (what the migration tests use).
	for id, want := range map[string][2]int64{ids[0]: {1, maxSingle}, ids[1]: {maxSingle + 1, maxSingle}} {
		minS, err1 := c.MinSeq(ctx, id, single)
		maxS, err2 := c.MaxSeq(ctx, id, single)
		if err := errors.Join(err1, err2); err != nil || minS != want[0] || maxS != want[1] {
			t.Fatalf("MinSeq/MaxSeq of %s for %s: %d/%d, want %d/%d (%v)", single, id, minS, maxS, want[0], want[1], err)
		}
	}
	if minS, err := c.MinSeq(ctx, ids[2], group); err != nil || minS != 1 {
		t.Fatalf("MinSeq of %s for %s: %d, want 1 (%v)", group, ids[2], minS, err)
	}
	if ms, err := c.ConversationMessages(ctx, ids[1], single, maxSingle); err != nil || len(ms) != 0 {
		t.Fatalf("%s pulls %d messages of %s after clearing it (min seq %d), want none (%v)", ids[1], len(ms), single, maxSingle+1, err)
	}
	wait(ids[0], singleSent, 30*time.Second) // the other side keeps them
	after := fmt.Sprintf("%s: after %s cleared the chat", tag, ids[1])
	send(ids[0], ids[1], false, after)
	newMsg := wait(ids[1], singleSent[len(singleSent)-1:], time.Minute)[0]
	ns, err := c.NewestSeqs(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.ConversationMessages(ctx, ids[1], single, ns.MaxSeqs[single])
	if err != nil {
		t.Fatal(err)
	}
	if newMsg.Seq != maxSingle+1 || len(ms) != 1 {
		t.Fatalf("after clearing, %s pulls %d messages (want 1), the new one with seq %d (want %d)", ids[1], len(ms), newMsg.Seq, maxSingle+1)
	}
	t.Logf("messages %s: %s cleared %s: its min seq is %d, it pulls only the message sent after", tag, ids[1], single, maxSingle+1)
}

// waitFor calls check every 200 ms until it returns nil; after limit it
// fails the test with check's last error.
func waitFor(ctx context.Context, t *testing.T, limit time.Duration, what string, check func() error) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-wctx.Done():
			t.Fatalf("%s: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stored describes what Mongo holds for the conversations, and the Kafka
// groups, for a failure message.
func stored(ctx context.Context, d *openimtest.Deployment, convs ...string) string {
	var b strings.Builder
	for _, conv := range convs {
		ms, err := d.StoredMessages(ctx, conv)
		fmt.Fprintf(&b, "Mongo msg of %s (%v):\n", conv, err)
		for _, m := range ms {
			fmt.Fprintf(&b, "  seq %d from %s clientMsgID %s %s\n", m.Seq, m.SendID, m.ClientMsgID, m.Content)
		}
	}
	state, err := d.KafkaState(ctx)
	fmt.Fprintf(&b, "Kafka (%v):\n%s", err, state)
	if dir := os.Getenv("OPENIMTEST_KEEP_LOGS"); dir != "" {
		out, err := exec.CommandContext(ctx, "cp", "-a", d.Dir, dir).CombinedOutput()
		fmt.Fprintf(&b, "deployment dir copied to %s: %v %s\n", dir, err, out)
	}
	return b.String()
}
