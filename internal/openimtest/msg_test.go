package openimtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openimsdk/protocol/msg"
	"github.com/openimsdk/protocol/sdkws"
)

// fakeSeqAPI is a stand-in for the two endpoints of OpenIM 3.8.3's API
// that MinSeq uses, answering as GetMsgBySeqsRange does
// (pkg/common/storage/controller/msg.go): nothing when minSeq > end, else
// one entry per seq in [max(begin, minSeq), min(end, maxSeq)]. The real
// API is exercised by test/realopenim.
func fakeSeqAPI(t *testing.T, conv string, minSeq, maxSeq int64, calls *int) *httptest.Server {
	t.Helper()
	answer := func(w http.ResponseWriter, data any) {
		b, _ := json.Marshal(data)
		_ = json.NewEncoder(w).Encode(map[string]any{"errCode": 0, "data": json.RawMessage(b)})
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth/get_admin_token":
			answer(w, map[string]any{"token": "t"})
		case "/msg/get_conversations_has_read_and_max_seq":
			seqs := map[string]*msg.Seqs{}
			if maxSeq > 0 {
				seqs[conv] = &msg.Seqs{MaxSeq: maxSeq}
			}
			answer(w, &msg.GetConversationsHasReadAndMaxSeqResp{Seqs: seqs})
		case "/msg/pull_msg_by_seq":
			*calls++
			var req sdkws.PullMessageBySeqsReq
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				t.Errorf("pull_msg_by_seq: %v", err)
			}
			resp := &sdkws.PullMessageBySeqsResp{Msgs: map[string]*sdkws.PullMsgs{}}
			sr := req.SeqRanges[0]
			begin, end := max(sr.Begin, minSeq), min(sr.End, maxSeq)
			if minSeq <= sr.End && begin <= end {
				pm := &sdkws.PullMsgs{}
				for s := begin; s <= end; s++ {
					pm.Msgs = append(pm.Msgs, &sdkws.MsgData{Seq: s})
				}
				resp.Msgs[sr.ConversationID] = pm
			}
			answer(w, resp)
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestMinSeq(t *testing.T) {
	const conv = "si_a_b"
	for _, tc := range []struct {
		name           string
		minSeq, maxSeq int64
		want           int64
	}{
		{"no messages", 0, 0, 0},
		{"min 0 means from 1", 0, 10, 1},
		{"min 1", 1, 10, 1},
		{"min in the middle", 7, 10, 7},
		{"min is max", 10, 10, 10},
		{"all cleared", 11, 10, 11},
		{"one message", 0, 1, 1},
		{"large", 123457, 1 << 20, 123457},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			srv := fakeSeqAPI(t, conv, tc.minSeq, tc.maxSeq, &calls)
			defer srv.Close()
			c := NewClient(srv.URL, "s", "imAdmin")
			got, err := c.MinSeq(context.Background(), "a", conv)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("MinSeq = %d, want %d", got, tc.want)
			}
			if calls > 22 {
				t.Fatalf("%d pulls for max seq %d: not a binary search", calls, tc.maxSeq)
			}
		})
	}
}

func TestConversationIDs(t *testing.T) {
	if got := SingleConversationID("u2", "u10"); got != "si_u10_u2" {
		t.Fatalf("SingleConversationID(u2, u10) = %q, want si_u10_u2 (sorted as strings)", got)
	}
	if SingleConversationID("a", "b") != SingleConversationID("b", "a") {
		t.Fatal("SingleConversationID depends on the order of its arguments")
	}
	if got := GroupConversationID("123"); got != "sg_123" {
		t.Fatalf("GroupConversationID(123) = %q", got)
	}
	if n := docNum("si_a_b:12"); n != 12 {
		t.Fatalf("docNum(si_a_b:12) = %d", n)
	}
}
