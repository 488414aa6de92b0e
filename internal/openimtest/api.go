package openimtest

import (
	"context"
	"errors"
	"fmt"

	"github.com/openimsdk/protocol/constant"
	"github.com/openimsdk/protocol/conversation"
	"github.com/openimsdk/protocol/group"
	"github.com/openimsdk/protocol/relation"
	"github.com/openimsdk/protocol/sdkws"
	"github.com/openimsdk/protocol/user"
)

// pageSize is the page size the list helpers ask for (OpenIM pages from 1).
const pageSize = 100

// RegisterUsers registers users (/user/user_register).
func (c *Client) RegisterUsers(ctx context.Context, users ...*sdkws.UserInfo) error {
	return c.Call(ctx, "/user/user_register", &user.UserRegisterReq{Users: users}, nil)
}

// UsersInfo returns the users OpenIM knows among userIDs (/user/get_users_info).
func (c *Client) UsersInfo(ctx context.Context, userIDs ...string) ([]*sdkws.UserInfo, error) {
	var resp user.GetDesignateUsersResp
	err := c.Call(ctx, "/user/get_users_info", &user.GetDesignateUsersReq{UserIDs: userIDs}, &resp)
	return resp.UsersInfo, err
}

// ImportFriends makes owner and each of friends friends of each other, as the
// admin does it (/friend/import_friend: no request, no acceptance).
func (c *Client) ImportFriends(ctx context.Context, owner string, friends ...string) error {
	return c.Call(ctx, "/friend/import_friend", &relation.ImportFriendReq{OwnerUserID: owner, FriendUserIDs: friends}, nil)
}

// FriendList returns every friend of userID in OpenIM's order
// (/friend/get_friend_list, all pages).
func (c *Client) FriendList(ctx context.Context, userID string) ([]*sdkws.FriendInfo, error) {
	var all []*sdkws.FriendInfo
	err := paginate(func(p *sdkws.RequestPagination) (int, int, error) {
		var resp relation.GetPaginationFriendsResp
		err := c.Call(ctx, "/friend/get_friend_list", &relation.GetPaginationFriendsReq{UserID: userID, Pagination: p}, &resp)
		all = append(all, resp.FriendsInfo...)
		return len(resp.FriendsInfo), int(resp.Total), err
	})
	return all, err
}

// Blacks returns userID's blacklist (/friend/get_black_list, all pages).
func (c *Client) Blacks(ctx context.Context, userID string) ([]*sdkws.BlackInfo, error) {
	var all []*sdkws.BlackInfo
	err := paginate(func(p *sdkws.RequestPagination) (int, int, error) {
		var resp relation.GetPaginationBlacksResp
		err := c.Call(ctx, "/friend/get_black_list", &relation.GetPaginationBlacksReq{UserID: userID, Pagination: p}, &resp)
		all = append(all, resp.Blacks...)
		return len(resp.Blacks), int(resp.Total), err
	})
	return all, err
}

// FriendRequestsTo returns the friend requests userID received
// (/friend/get_friend_apply_list, all pages).
func (c *Client) FriendRequestsTo(ctx context.Context, userID string) ([]*sdkws.FriendRequest, error) {
	var all []*sdkws.FriendRequest
	err := paginate(func(p *sdkws.RequestPagination) (int, int, error) {
		var resp relation.GetPaginationFriendsApplyToResp
		err := c.Call(ctx, "/friend/get_friend_apply_list", &relation.GetPaginationFriendsApplyToReq{UserID: userID, Pagination: p}, &resp)
		all = append(all, resp.FriendRequests...)
		return len(resp.FriendRequests), int(resp.Total), err
	})
	return all, err
}

// FriendRequestsFrom returns the friend requests userID sent
// (/friend/get_self_friend_apply_list, all pages).
func (c *Client) FriendRequestsFrom(ctx context.Context, userID string) ([]*sdkws.FriendRequest, error) {
	var all []*sdkws.FriendRequest
	err := paginate(func(p *sdkws.RequestPagination) (int, int, error) {
		var resp relation.GetPaginationFriendsApplyFromResp
		err := c.Call(ctx, "/friend/get_self_friend_apply_list", &relation.GetPaginationFriendsApplyFromReq{UserID: userID, Pagination: p}, &resp)
		all = append(all, resp.FriendRequests...)
		return len(resp.FriendRequests), int(resp.Total), err
	})
	return all, err
}

// CreateGroup creates a working group (/group/create_group) named name, owned
// by owner, with members, and returns it as OpenIM stored it.
func (c *Client) CreateGroup(ctx context.Context, name, owner string, members ...string) (*sdkws.GroupInfo, error) {
	var resp group.CreateGroupResp
	err := c.Call(ctx, "/group/create_group", &group.CreateGroupReq{
		OwnerUserID:   owner,
		MemberUserIDs: members,
		GroupInfo:     &sdkws.GroupInfo{GroupName: name, GroupType: constant.WorkingGroup},
	}, &resp)
	if err == nil && resp.GroupInfo == nil {
		err = errors.New("openim-api /group/create_group: errCode 0 but no groupInfo")
	}
	return resp.GroupInfo, err
}

// GroupsInfo returns the groups among groupIDs (/group/get_groups_info).
func (c *Client) GroupsInfo(ctx context.Context, groupIDs ...string) ([]*sdkws.GroupInfo, error) {
	var resp group.GetGroupsInfoResp
	err := c.Call(ctx, "/group/get_groups_info", &group.GetGroupsInfoReq{GroupIDs: groupIDs}, &resp)
	return resp.GroupInfos, err
}

// GroupMembers returns every member of groupID (/group/get_group_member_list,
// all pages).
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]*sdkws.GroupMemberFullInfo, error) {
	var all []*sdkws.GroupMemberFullInfo
	err := paginate(func(p *sdkws.RequestPagination) (int, int, error) {
		var resp group.GetGroupMemberListResp
		err := c.Call(ctx, "/group/get_group_member_list", &group.GetGroupMemberListReq{GroupID: groupID, Pagination: p}, &resp)
		all = append(all, resp.Members...)
		return len(resp.Members), int(resp.Total), err
	})
	return all, err
}

// JoinedGroups returns the groups userID is a member of
// (/group/get_joined_group_list, all pages).
func (c *Client) JoinedGroups(ctx context.Context, userID string) ([]*sdkws.GroupInfo, error) {
	var all []*sdkws.GroupInfo
	err := paginate(func(p *sdkws.RequestPagination) (int, int, error) {
		var resp group.GetJoinedGroupListResp
		err := c.Call(ctx, "/group/get_joined_group_list", &group.GetJoinedGroupListReq{FromUserID: userID, Pagination: p}, &resp)
		all = append(all, resp.Groups...)
		return len(resp.Groups), int(resp.Total), err
	})
	return all, err
}

// GroupRequestsTo returns the join requests of the groups userID owns or
// administers (/group/get_recv_group_applicationList, all pages).
func (c *Client) GroupRequestsTo(ctx context.Context, userID string) ([]*sdkws.GroupRequest, error) {
	var all []*sdkws.GroupRequest
	err := paginate(func(p *sdkws.RequestPagination) (int, int, error) {
		var resp group.GetGroupApplicationListResp
		err := c.Call(ctx, "/group/get_recv_group_applicationList", &group.GetGroupApplicationListReq{FromUserID: userID, Pagination: p}, &resp)
		all = append(all, resp.GroupRequests...)
		return len(resp.GroupRequests), int(resp.Total), err
	})
	return all, err
}

// GroupRequestsFrom returns the join requests userID sent
// (/group/get_user_req_group_applicationList, all pages).
func (c *Client) GroupRequestsFrom(ctx context.Context, userID string) ([]*sdkws.GroupRequest, error) {
	var all []*sdkws.GroupRequest
	err := paginate(func(p *sdkws.RequestPagination) (int, int, error) {
		var resp group.GetUserReqApplicationListResp
		err := c.Call(ctx, "/group/get_user_req_group_applicationList", &group.GetUserReqApplicationListReq{UserID: userID, Pagination: p}, &resp)
		all = append(all, resp.GroupRequests...)
		return len(resp.GroupRequests), int(resp.Total), err
	})
	return all, err
}

// Conversations returns every conversation of ownerUserID
// (/conversation/get_all_conversations).
func (c *Client) Conversations(ctx context.Context, ownerUserID string) ([]*conversation.Conversation, error) {
	var resp conversation.GetAllConversationsResp
	err := c.Call(ctx, "/conversation/get_all_conversations", &conversation.GetAllConversationsReq{OwnerUserID: ownerUserID}, &resp)
	return resp.Conversations, err
}

// paginate calls page with page numbers 1, 2, ... until it has seen total
// items or a short page. page returns (items in this page, total, error).
func paginate(page func(*sdkws.RequestPagination) (int, int, error)) error {
	seen := 0
	for n := int32(1); ; n++ {
		got, total, err := page(&sdkws.RequestPagination{PageNumber: n, ShowNumber: pageSize})
		if err != nil {
			return err
		}
		seen += got
		if got < pageSize || seen >= total {
			return nil
		}
		if n > 1_000_000 {
			return fmt.Errorf("more than %d pages", n)
		}
	}
}
