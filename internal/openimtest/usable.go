package openimtest

import (
	"context"
	"fmt"
	"time"

	"github.com/openimsdk/protocol/conversation"
	"github.com/openimsdk/protocol/group"
	"github.com/openimsdk/protocol/msg"
	"github.com/openimsdk/protocol/relation"
	"github.com/openimsdk/protocol/sdkws"
	"github.com/openimsdk/protocol/third"
	"github.com/openimsdk/protocol/user"
)

// probe is one API request that openim-api can only answer with errCode 0
// through the RPC service it names.
type probe struct {
	service string
	call    func(ctx context.Context, c *Client) error
}

func probes() []probe {
	one := &sdkws.RequestPagination{PageNumber: 1, ShowNumber: 1}
	return []probe{
		{"openim-rpc-auth", func(ctx context.Context, c *Client) error {
			tok, err := c.newAdminToken(ctx) // a fresh one: the call itself is the probe
			if err == nil {
				c.mu.Lock()
				c.token = tok
				c.mu.Unlock()
			}
			return err
		}},
		{"openim-rpc-user", func(ctx context.Context, c *Client) error {
			return c.Call(ctx, "/user/get_all_users_uid", &user.GetAllUserIDReq{Pagination: one}, nil)
		}},
		{"openim-rpc-friend", func(ctx context.Context, c *Client) error {
			return c.Call(ctx, "/friend/get_friend_list", &relation.GetPaginationFriendsReq{UserID: c.AdminUserID, Pagination: one}, nil)
		}},
		{"openim-rpc-group", func(ctx context.Context, c *Client) error {
			return c.Call(ctx, "/group/get_groups", &group.GetGroupsReq{Pagination: one}, nil)
		}},
		{"openim-rpc-conversation", func(ctx context.Context, c *Client) error {
			return c.Call(ctx, "/conversation/get_all_conversations", &conversation.GetAllConversationsReq{OwnerUserID: c.AdminUserID}, nil)
		}},
		{"openim-rpc-msg", func(ctx context.Context, c *Client) error {
			return c.Call(ctx, "/msg/get_server_time", &msg.GetServerTimeReq{}, nil)
		}},
		{"openim-rpc-third", func(ctx context.Context, c *Client) error {
			return c.Call(ctx, "/object/part_limit", &third.PartLimitReq{}, nil)
		}},
	}
}

// WaitUsable returns once openim-api answers, with errCode 0, a request
// through openim-rpc-auth (a fresh admin token) and through each RPC service
// among services that the API calls (user, friend, group, conversation, msg,
// third); other names are ignored. An open TCP port is not enough: openim-api
// listens about 0.2 s after start but answers errCode 14 until the RPC
// services have registered in etcd. It polls every 100 ms; when ctx ends
// first the error names the service that did not answer and its last error.
func (c *Client) WaitUsable(ctx context.Context, services ...string) error {
	want := map[string]bool{"openim-rpc-auth": true}
	for _, s := range services {
		want[s] = true
	}
	var todo []probe
	for _, p := range probes() {
		if want[p.service] {
			todo = append(todo, p)
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for _, p := range todo {
		for {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := p.call(cctx, c)
			cancel()
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("openim-api at %s not usable through %s: %w (last answer: %v)", c.BaseURL, p.service, ctx.Err(), err)
			case <-tick.C:
			}
		}
	}
	return nil
}
