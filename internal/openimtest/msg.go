package openimtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/openimsdk/protocol/constant"
	"github.com/openimsdk/protocol/conversation"
	"github.com/openimsdk/protocol/msg"
	"github.com/openimsdk/protocol/sdkws"
)

// Messages through OpenIM's HTTP API. openim-api hands /msg/send_msg to
// openim-rpc-msg, which only puts the message on Kafka (toRedis) and answers
// errCode 0; openim-msgtransfer gives it its seq (Redis, then the Mongo
// collection seq), stores it in Mongo (msg) and creates the conversations.
// A message is stored once its seq shows in /msg/newest_seq and
// /msg/pull_msg_by_seq returns it: WaitMessages waits for that.

// SingleConversationID is the conversation ID OpenIM gives the single chat
// of a and b: "si_" and the two IDs sorted, joined by "_"
// (pkg/msgprocessor GetConversationIDBySessionType).
func SingleConversationID(a, b string) string {
	ids := []string{a, b}
	sort.Strings(ids)
	return "si_" + strings.Join(ids, "_")
}

// GroupConversationID is the conversation ID of a group's chat: "sg_" and
// the group ID (OpenIM's groups are "super groups", ReadGroupChatType).
func GroupConversationID(groupID string) string { return "sg_" + groupID }

// SendText sends a text message from sendID to recvID as the admin
// (/msg/send_msg, a single chat) and returns OpenIM's answer (server msg id,
// client msg id, send time). errCode 0 means the message is on Kafka, not
// that it is stored (see WaitMessages).
func (c *Client) SendText(ctx context.Context, sendID, recvID, text string) (*msg.SendMsgResp, error) {
	return c.sendText(ctx, map[string]any{"sendID": sendID, "recvID": recvID, "sessionType": constant.SingleChatType}, text)
}

// SendGroupText sends a text message from sendID, a member, into groupID
// (/msg/send_msg, sessionType ReadGroupChatType).
func (c *Client) SendGroupText(ctx context.Context, sendID, groupID, text string) (*msg.SendMsgResp, error) {
	return c.sendText(ctx, map[string]any{"sendID": sendID, "groupID": groupID, "sessionType": constant.ReadGroupChatType}, text)
}

func (c *Client) sendText(ctx context.Context, req map[string]any, text string) (*msg.SendMsgResp, error) {
	req["senderPlatformID"] = constant.AdminPlatformID
	req["contentType"] = constant.Text
	req["content"] = map[string]any{"content": text}
	req["sendTime"] = time.Now().UnixMilli()
	var resp msg.SendMsgResp
	err := c.Call(ctx, "/msg/send_msg", req, &resp)
	if err == nil && resp.ClientMsgID == "" {
		err = errors.New("openim-api /msg/send_msg: errCode 0 but no clientMsgID")
	}
	return &resp, err
}

// TextOf returns the text of a text message's content ({"content": TEXT}).
func TextOf(m *sdkws.MsgData) (string, error) {
	var c struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal([]byte(m.Content), &c); err != nil {
		return "", fmt.Errorf("message seq %d: content %q is not a text element: %w", m.Seq, m.Content, err)
	}
	return c.Content, nil
}

// NewestSeqs returns the max seq of every conversation of userID that has
// messages (/msg/newest_seq; OpenIM 3.8.3 leaves minSeqs empty).
func (c *Client) NewestSeqs(ctx context.Context, userID string) (*sdkws.GetMaxSeqResp, error) {
	var resp sdkws.GetMaxSeqResp
	err := c.Call(ctx, "/msg/newest_seq", &sdkws.GetMaxSeqReq{UserID: userID}, &resp)
	return &resp, err
}

// HasReadAndMaxSeqs returns userID's read seq and the max seq of each of
// conversationIDs (all of userID's when empty)
// (/msg/get_conversations_has_read_and_max_seq).
func (c *Client) HasReadAndMaxSeqs(ctx context.Context, userID string, conversationIDs ...string) (map[string]*msg.Seqs, error) {
	var resp msg.GetConversationsHasReadAndMaxSeqResp
	err := c.Call(ctx, "/msg/get_conversations_has_read_and_max_seq",
		&msg.GetConversationsHasReadAndMaxSeqReq{UserID: userID, ConversationIDs: conversationIDs}, &resp)
	return resp.Seqs, err
}

// PullMessages returns userID's messages of conversationID with seqs
// begin..end in ascending order (/msg/pull_msg_by_seq). OpenIM leaves out
// seqs below the user's min seq; and when it cannot read a conversation
// (e.g. its store fails) it leaves the conversation out and still answers
// errCode 0, so check what comes back.
func (c *Client) PullMessages(ctx context.Context, userID, conversationID string, begin, end int64) (*sdkws.PullMessageBySeqsResp, error) {
	var resp sdkws.PullMessageBySeqsResp
	err := c.Call(ctx, "/msg/pull_msg_by_seq", &sdkws.PullMessageBySeqsReq{
		UserID:    userID,
		SeqRanges: []*sdkws.SeqRange{{ConversationID: conversationID, Begin: begin, End: end, Num: end - begin + 1}},
		Order:     sdkws.PullOrder_PullOrderAsc,
	}, &resp)
	return &resp, err
}

// ConversationMessages returns userID's messages of conversationID with
// seqs 1..maxSeq, ascending (nil when OpenIM returns none).
func (c *Client) ConversationMessages(ctx context.Context, userID, conversationID string, maxSeq int64) ([]*sdkws.MsgData, error) {
	if maxSeq < 1 {
		return nil, nil
	}
	resp, err := c.PullMessages(ctx, userID, conversationID, 1, maxSeq)
	if err != nil {
		return nil, err
	}
	if pm := resp.Msgs[conversationID]; pm != nil {
		return pm.Msgs, nil
	}
	return nil, nil
}

// SortedConversations returns userID's conversations as OpenIM's client
// list shows them: unread count and latest message of each
// (/conversation/get_sorted_conversation_list).
func (c *Client) SortedConversations(ctx context.Context, userID string) (*conversation.GetSortedConversationListResp, error) {
	var resp conversation.GetSortedConversationListResp
	err := c.Call(ctx, "/conversation/get_sorted_conversation_list", &conversation.GetSortedConversationListReq{
		UserID: userID, Pagination: &sdkws.RequestPagination{PageNumber: 1, ShowNumber: pageSize},
	}, &resp)
	return &resp, err
}

// ClearConversations clears userID's messages of conversationIDs for
// userID only (/msg/clear_conversation_msg without syncing others): OpenIM
// raises userID's min seq of each to its max seq + 1.
func (c *Client) ClearConversations(ctx context.Context, userID string, conversationIDs ...string) error {
	return c.Call(ctx, "/msg/clear_conversation_msg", &msg.ClearConversationsMsgReq{
		UserID: userID, ConversationIDs: conversationIDs, DeleteSyncOpt: &msg.DeleteSyncOpt{IsSyncSelf: true},
	}, nil)
}

// Sent is a message as a test sent it.
type Sent struct {
	ConversationID string
	SendID         string
	Text           string
	ClientMsgID    string // OpenIM's answer to /msg/send_msg
}

// WaitMessages waits until userID can pull every message of want (all of
// one conversation, in send order) through the API exactly once: each with
// a seq, in order, with its sender and text. It returns the messages as
// pulled, in the order of want. When ctx ends first the error says which
// message is missing or doubled and what the API shows.
func (c *Client) WaitMessages(ctx context.Context, userID string, want []Sent) ([]*sdkws.MsgData, error) {
	got, err := c.waitMessages(ctx, userID, want, false)
	if err != nil {
		return nil, err
	}
	out := make([]*sdkws.MsgData, len(got))
	for i, ms := range got {
		out[i] = ms[0]
	}
	return out, nil
}

// WaitMessagesAtLeastOnce is WaitMessages for messages that OpenIM may
// store more than once: each message of want is pulled at least once, with
// its sender and text, in any order. It returns, per message of want, every
// copy pulled (ascending seq). OpenIM 3.8.3's openim-msgtransfer reads
// Kafka at least once: a message it had taken from a partition that a
// consumer-group rebalance (a msgtransfer killed or started) then hands to
// another instance before the offset is committed gets a second seq.
func (c *Client) WaitMessagesAtLeastOnce(ctx context.Context, userID string, want []Sent) ([][]*sdkws.MsgData, error) {
	return c.waitMessages(ctx, userID, want, true)
}

func (c *Client) waitMessages(ctx context.Context, userID string, want []Sent, dupOK bool) ([][]*sdkws.MsgData, error) {
	if len(want) == 0 {
		return nil, nil
	}
	conv := want[0].ConversationID
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := c.matchMessages(ctx, userID, conv, want, dupOK)
		if err == nil {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s cannot pull the messages sent into %s: %w (last: %v)", userID, conv, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func (c *Client) matchMessages(ctx context.Context, userID, conv string, want []Sent, dupOK bool) ([][]*sdkws.MsgData, error) {
	maxSeq, err := c.MaxSeq(ctx, userID, conv)
	if err != nil {
		return nil, err
	}
	msgs, err := c.ConversationMessages(ctx, userID, conv, maxSeq)
	if err != nil {
		return nil, err
	}
	byID := map[string][]*sdkws.MsgData{}
	for _, m := range msgs {
		byID[m.ClientMsgID] = append(byID[m.ClientMsgID], m)
	}
	got := make([][]*sdkws.MsgData, 0, len(want))
	var last int64
	for i, w := range want {
		ms := byID[w.ClientMsgID]
		if len(ms) == 0 {
			return nil, fmt.Errorf("message %d (%q from %s, clientMsgID %s) not among the %d messages pulled (max seq %d)",
				i, w.Text, w.SendID, w.ClientMsgID, len(msgs), maxSeq)
		}
		if len(ms) > 1 && !dupOK {
			return nil, fmt.Errorf("message %d (%q from %s, clientMsgID %s) pulled %d times, seqs %v",
				i, w.Text, w.SendID, w.ClientMsgID, len(ms), seqsOf(ms))
		}
		for _, m := range ms {
			text, err := TextOf(m)
			if err != nil {
				return nil, err
			}
			if m.SendID != w.SendID || text != w.Text || (!dupOK && m.Seq <= last) {
				return nil, fmt.Errorf("message %d: pulled seq %d from %s %q, want %q from %s after seq %d",
					i, m.Seq, m.SendID, text, w.Text, w.SendID, last)
			}
			last = m.Seq
		}
		got = append(got, ms)
	}
	return got, nil
}

func seqsOf(ms []*sdkws.MsgData) []int64 {
	s := make([]int64, len(ms))
	for i, m := range ms {
		s[i] = m.Seq
	}
	return s
}

// MaxSeq returns the max seq of conversationID as userID sees it through
// the API (/msg/get_conversations_has_read_and_max_seq: the conversation's
// max seq, capped by userID's own max seq when that is set), 0 when the
// conversation has no messages.
func (c *Client) MaxSeq(ctx context.Context, userID, conversationID string) (int64, error) {
	s, err := c.HasReadAndMaxSeqs(ctx, userID, conversationID)
	if err != nil {
		return 0, err
	}
	if s[conversationID] == nil {
		return 0, nil
	}
	return s[conversationID].MaxSeq, nil
}

// MinSeq returns the first seq of conversationID that userID can pull
// through the API: the larger of the conversation's min seq and userID's own
// (raised by clearing the chat), at least 1; maxSeq+1 when userID can pull
// none (all cleared); 0 when the conversation has no messages. OpenIM 3.8.3
// has no API that returns a min seq (/msg/newest_seq leaves minSeqs empty),
// so it asks /msg/pull_msg_by_seq for single seqs, a binary search over
// 1..max seq: OpenIM answers a seq below the min seq with nothing, and any
// other seq with the message or, where none is stored, a placeholder.
func (c *Client) MinSeq(ctx context.Context, userID, conversationID string) (int64, error) {
	maxSeq, err := c.MaxSeq(ctx, userID, conversationID)
	if err != nil || maxSeq == 0 {
		return 0, err
	}
	lo, hi := int64(1), maxSeq+1 // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		resp, err := c.PullMessages(ctx, userID, conversationID, mid, mid)
		if err != nil {
			return 0, err
		}
		if pm := resp.Msgs[conversationID]; pm != nil && len(pm.Msgs) > 0 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// WaitStored waits until every message of want (all of one conversation)
// is in the deployment's Mongo database (StoredMessages), for a test that
// then reads them through the API without OpenIM's Redis cache.
// openim-msgtransfer puts a message into that cache first and writes Mongo
// from a second Kafka topic (toMongo), so a message can be pulled before it
// is stored; a pull that misses the cache then finds nothing in Mongo, and
// OpenIM caches that miss and answers a "deleted" placeholder for the seq
// until the cache entry expires.
func (d *Deployment) WaitStored(ctx context.Context, want []Sent) error {
	if len(want) == 0 {
		return nil
	}
	conv := want[0].ConversationID
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		stored, err := d.StoredMessages(ctx, conv)
		if err == nil {
			have := map[string]bool{}
			for _, m := range stored {
				have[m.ClientMsgID] = true
			}
			for _, w := range want {
				if !have[w.ClientMsgID] {
					err = fmt.Errorf("message %q from %s (clientMsgID %s) not among the %d stored", w.Text, w.SendID, w.ClientMsgID, len(stored))
					break
				}
			}
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the messages of %s are not all in Mongo: %w (last: %v)", conv, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// SearchMessages is the admin's message search (/msg/search_msg): stored
// messages filtered by sender, receiver (user or group), content type,
// session type and send day, one page of up to 100.
func (c *Client) SearchMessages(ctx context.Context, req *msg.SearchMessageReq) (*msg.SearchMessageResp, error) {
	if req.Pagination == nil {
		req.Pagination = &sdkws.RequestPagination{PageNumber: 1, ShowNumber: pageSize}
	}
	var resp msg.SearchMessageResp
	err := c.Call(ctx, "/msg/search_msg", req, &resp)
	return &resp, err
}
