// Package openimmodel mirrors the MongoDB model types of OpenIM 3.8.3
// (github.com/openimsdk/open-im-server/v3@v3.8.3, pkg/common/storage/model)
// for every collection the migrations write, plus OpenIM 3.5's RTC models
// (tools/up35/pkg/internal/rtc/mongo/table, which 3.8.3 no longer has).
//
// The migrations prove their output against these types: every written
// document decodes into its struct and carries every field with the BSON
// type OpenIM writes (Check). They are a mirror, not an import, to keep
// OpenIM's module graph (openimsdk/tools and protocol alphas, zap, gorm) out
// of the supervisor; test/openimmodels asserts by reflection, field by
// field, that the mirror equals OpenIM's real types, so it cannot drift.
package openimmodel

import (
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// OpenIM 3.8.3 pkg/common/storage/model.

type User struct {
	UserID           string    `bson:"user_id"`
	Nickname         string    `bson:"nickname"`
	FaceURL          string    `bson:"face_url"`
	Ex               string    `bson:"ex"`
	AppMangerLevel   int32     `bson:"app_manger_level"`
	GlobalRecvMsgOpt int32     `bson:"global_recv_msg_opt"`
	CreateTime       time.Time `bson:"create_time"`
}

type Friend struct {
	ID             primitive.ObjectID `bson:"_id"`
	OwnerUserID    string             `bson:"owner_user_id"`
	FriendUserID   string             `bson:"friend_user_id"`
	Remark         string             `bson:"remark"`
	CreateTime     time.Time          `bson:"create_time"`
	AddSource      int32              `bson:"add_source"`
	OperatorUserID string             `bson:"operator_user_id"`
	Ex             string             `bson:"ex"`
	IsPinned       bool               `bson:"is_pinned"`
}

type FriendRequest struct {
	FromUserID    string    `bson:"from_user_id"`
	ToUserID      string    `bson:"to_user_id"`
	HandleResult  int32     `bson:"handle_result"`
	ReqMsg        string    `bson:"req_msg"`
	CreateTime    time.Time `bson:"create_time"`
	HandlerUserID string    `bson:"handler_user_id"`
	HandleMsg     string    `bson:"handle_msg"`
	HandleTime    time.Time `bson:"handle_time"`
	Ex            string    `bson:"ex"`
}

type Black struct {
	OwnerUserID    string    `bson:"owner_user_id"`
	BlockUserID    string    `bson:"block_user_id"`
	CreateTime     time.Time `bson:"create_time"`
	AddSource      int32     `bson:"add_source"`
	OperatorUserID string    `bson:"operator_user_id"`
	Ex             string    `bson:"ex"`
}

type Group struct {
	GroupID                string    `bson:"group_id"`
	GroupName              string    `bson:"group_name"`
	Notification           string    `bson:"notification"`
	Introduction           string    `bson:"introduction"`
	FaceURL                string    `bson:"face_url"`
	CreateTime             time.Time `bson:"create_time"`
	Ex                     string    `bson:"ex"`
	Status                 int32     `bson:"status"`
	CreatorUserID          string    `bson:"creator_user_id"`
	GroupType              int32     `bson:"group_type"`
	NeedVerification       int32     `bson:"need_verification"`
	LookMemberInfo         int32     `bson:"look_member_info"`
	ApplyMemberFriend      int32     `bson:"apply_member_friend"`
	NotificationUpdateTime time.Time `bson:"notification_update_time"`
	NotificationUserID     string    `bson:"notification_user_id"`
}

type GroupMember struct {
	GroupID        string    `bson:"group_id"`
	UserID         string    `bson:"user_id"`
	Nickname       string    `bson:"nickname"`
	FaceURL        string    `bson:"face_url"`
	RoleLevel      int32     `bson:"role_level"`
	JoinTime       time.Time `bson:"join_time"`
	JoinSource     int32     `bson:"join_source"`
	InviterUserID  string    `bson:"inviter_user_id"`
	OperatorUserID string    `bson:"operator_user_id"`
	MuteEndTime    time.Time `bson:"mute_end_time"`
	Ex             string    `bson:"ex"`
}

type GroupRequest struct {
	UserID        string    `bson:"user_id"`
	GroupID       string    `bson:"group_id"`
	HandleResult  int32     `bson:"handle_result"`
	ReqMsg        string    `bson:"req_msg"`
	HandledMsg    string    `bson:"handled_msg"`
	ReqTime       time.Time `bson:"req_time"`
	HandleUserID  string    `bson:"handle_user_id"`
	HandledTime   time.Time `bson:"handled_time"`
	JoinSource    int32     `bson:"join_source"`
	InviterUserID string    `bson:"inviter_user_id"`
	Ex            string    `bson:"ex"`
}

type Conversation struct {
	OwnerUserID           string    `bson:"owner_user_id"`
	ConversationID        string    `bson:"conversation_id"`
	ConversationType      int32     `bson:"conversation_type"`
	UserID                string    `bson:"user_id"`
	GroupID               string    `bson:"group_id"`
	RecvMsgOpt            int32     `bson:"recv_msg_opt"`
	IsPinned              bool      `bson:"is_pinned"`
	IsPrivateChat         bool      `bson:"is_private_chat"`
	BurnDuration          int32     `bson:"burn_duration"`
	GroupAtType           int32     `bson:"group_at_type"`
	AttachedInfo          string    `bson:"attached_info"`
	Ex                    string    `bson:"ex"`
	MaxSeq                int64     `bson:"max_seq"`
	MinSeq                int64     `bson:"min_seq"`
	CreateTime            time.Time `bson:"create_time"`
	IsMsgDestruct         bool      `bson:"is_msg_destruct"`
	MsgDestructTime       int64     `bson:"msg_destruct_time"`
	LatestMsgDestructTime time.Time `bson:"latest_msg_destruct_time"`
}

type Object struct {
	Name        string    `bson:"name"`
	UserID      string    `bson:"user_id"`
	Hash        string    `bson:"hash"`
	Engine      string    `bson:"engine"`
	Key         string    `bson:"key"`
	Size        int64     `bson:"size"`
	ContentType string    `bson:"content_type"`
	Group       string    `bson:"group"`
	CreateTime  time.Time `bson:"create_time"`
}

type Log struct {
	LogID        string    `bson:"log_id"`
	Platform     string    `bson:"platform"`
	UserID       string    `bson:"user_id"`
	CreateTime   time.Time `bson:"create_time"`
	Url          string    `bson:"url"`
	FileName     string    `bson:"file_name"`
	SystemType   string    `bson:"system_type"`
	AppFramework string    `bson:"app_framework"`
	Version      string    `bson:"version"`
	Ex           string    `bson:"ex"`
}

type SeqConversation struct {
	ConversationID string `bson:"conversation_id"`
	MaxSeq         int64  `bson:"max_seq"`
	MinSeq         int64  `bson:"min_seq"`
}

type SeqUser struct {
	UserID         string `bson:"user_id"`
	ConversationID string `bson:"conversation_id"`
	MinSeq         int64  `bson:"min_seq"`
	MaxSeq         int64  `bson:"max_seq"`
	ReadSeq        int64  `bson:"read_seq"`
}

// OpenIM 3.5 tools/up35/pkg/internal/rtc/mongo/table (the RTC signalling
// and meeting collections; OpenIM 3.8.3's server does not read them).

type SignalModel struct {
	SID           string    `bson:"sid"`
	InviterUserID string    `bson:"inviter_user_id"`
	CustomData    string    `bson:"custom_data"`
	GroupID       string    `bson:"group_id"`
	RoomID        string    `bson:"room_id"`
	Timeout       int32     `bson:"timeout"`
	MediaType     string    `bson:"media_type"`
	PlatformID    int32     `bson:"platform_id"`
	SessionType   int32     `bson:"session_type"`
	InitiateTime  time.Time `bson:"initiate_time"`
	EndTime       time.Time `bson:"end_time"`
	FileURL       string    `bson:"file_url"`
	Title         string    `bson:"title"`
	Desc          string    `bson:"desc"`
	Ex            string    `bson:"ex"`
	IOSPushSound  string    `bson:"ios_push_sound"`
	IOSBadgeCount bool      `bson:"ios_badge_count"`
	SignalInfo    string    `bson:"signal_info"`
}

type SignalInvitationModel struct {
	SID          string    `bson:"sid"`
	UserID       string    `bson:"user_id"`
	Status       int32     `bson:"status"`
	InitiateTime time.Time `bson:"initiate_time"`
	HandleTime   time.Time `bson:"handle_time"`
}

type MeetingInfo struct {
	RoomID      string    `bson:"room_id"`
	MeetingName string    `bson:"meeting_name"`
	HostUserID  string    `bson:"host_user_id"`
	Status      int64     `bson:"status"`
	StartTime   time.Time `bson:"start_time"`
	EndTime     time.Time `bson:"end_time"`
	CreateTime  time.Time `bson:"create_time"`
	Ex          string    `bson:"ex"`
}

type MeetingInvitationInfo struct {
	RoomID     string    `bson:"room_id"`
	UserID     string    `bson:"user_id"`
	CreateTime time.Time `bson:"create_time"`
}

type MeetingVideoRecord struct {
	RoomID     string    `bson:"room_id"`
	FileURL    string    `bson:"file_url"`
	CreateTime time.Time `bson:"create_time"`
}
