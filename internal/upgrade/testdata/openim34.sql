-- OpenIM 3.4's MySQL tables, written from its gorm models
-- (tools/data-conversion/openim/mysql/v3/*.go and tools/up35/pkg/internal/rtc/mysql/*.go
-- in open-im-server v3.4-v3.6) the way gorm's MySQL dialect creates them:
-- string size:N -> varchar(N), string without size -> longtext, time.Time -> datetime(3),
-- int32 -> int, int64 -> bigint, bool -> boolean (tinyint(1)).
CREATE TABLE `users` (
  `user_id` varchar(64) NOT NULL,
  `name` varchar(255) DEFAULT NULL,
  `face_url` varchar(255) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  `app_manger_level` int DEFAULT 1,
  `global_recv_msg_opt` int DEFAULT NULL,
  PRIMARY KEY (`user_id`),
  KEY `create_time` (`create_time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `friends` (
  `owner_user_id` varchar(64) NOT NULL,
  `friend_user_id` varchar(64) NOT NULL,
  `remark` varchar(255) DEFAULT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  `add_source` int DEFAULT NULL,
  `operator_user_id` varchar(64) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  PRIMARY KEY (`owner_user_id`,`friend_user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `friend_requests` (
  `from_user_id` varchar(64) NOT NULL,
  `to_user_id` varchar(64) NOT NULL,
  `handle_result` int DEFAULT NULL,
  `req_msg` varchar(255) DEFAULT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  `handler_user_id` varchar(64) DEFAULT NULL,
  `handle_msg` varchar(255) DEFAULT NULL,
  `handle_time` datetime(3) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  PRIMARY KEY (`from_user_id`,`to_user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `blacks` (
  `owner_user_id` varchar(64) NOT NULL,
  `block_user_id` varchar(64) NOT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  `add_source` int DEFAULT NULL,
  `operator_user_id` varchar(64) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  PRIMARY KEY (`owner_user_id`,`block_user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `groups` (
  `group_id` varchar(64) NOT NULL,
  `name` varchar(255) DEFAULT NULL,
  `notification` varchar(255) DEFAULT NULL,
  `introduction` varchar(255) DEFAULT NULL,
  `face_url` varchar(255) DEFAULT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  `ex` longtext,
  `status` int DEFAULT NULL,
  `creator_user_id` varchar(64) DEFAULT NULL,
  `group_type` int DEFAULT NULL,
  `need_verification` int DEFAULT NULL,
  `look_member_info` int DEFAULT NULL,
  `apply_member_friend` int DEFAULT NULL,
  `notification_update_time` datetime(3) DEFAULT NULL,
  `notification_user_id` varchar(64) DEFAULT NULL,
  PRIMARY KEY (`group_id`),
  KEY `create_time` (`create_time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `group_members` (
  `group_id` varchar(64) NOT NULL,
  `user_id` varchar(64) NOT NULL,
  `nickname` varchar(255) DEFAULT NULL,
  `user_group_face_url` varchar(255) DEFAULT NULL,
  `role_level` int DEFAULT NULL,
  `join_time` datetime(3) DEFAULT NULL,
  `join_source` int DEFAULT NULL,
  `inviter_user_id` varchar(64) DEFAULT NULL,
  `operator_user_id` varchar(64) DEFAULT NULL,
  `mute_end_time` datetime(3) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  PRIMARY KEY (`group_id`,`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `group_requests` (
  `user_id` varchar(64) NOT NULL,
  `group_id` varchar(64) NOT NULL,
  `handle_result` int DEFAULT NULL,
  `req_msg` varchar(1024) DEFAULT NULL,
  `handle_msg` varchar(1024) DEFAULT NULL,
  `req_time` datetime(3) DEFAULT NULL,
  `handle_user_id` varchar(64) DEFAULT NULL,
  `handle_time` datetime(3) DEFAULT NULL,
  `join_source` int DEFAULT NULL,
  `inviter_user_id` varchar(64) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  PRIMARY KEY (`user_id`,`group_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `conversations` (
  `owner_user_id` char(128) NOT NULL,
  `conversation_id` char(128) NOT NULL,
  `conversation_type` int DEFAULT NULL,
  `user_id` char(64) DEFAULT NULL,
  `group_id` char(128) DEFAULT NULL,
  `recv_msg_opt` int DEFAULT NULL,
  `is_pinned` tinyint(1) DEFAULT NULL,
  `is_private_chat` tinyint(1) DEFAULT NULL,
  `burn_duration` int DEFAULT NULL,
  `group_at_type` int DEFAULT NULL,
  `attached_info` varchar(1024) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  `max_seq` bigint DEFAULT NULL,
  `min_seq` bigint DEFAULT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  `is_msg_destruct` tinyint(1) DEFAULT 0,
  `msg_destruct_time` bigint DEFAULT 604800,
  `latest_msg_destruct_time` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`owner_user_id`,`conversation_id`),
  KEY `create_time` (`create_time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `object` (
  `name` varchar(191) NOT NULL,
  `user_id` longtext,
  `hash` longtext,
  `key` longtext,
  `size` bigint DEFAULT NULL,
  `content_type` longtext,
  `cause` longtext,
  `create_time` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `logs` (
  `log_id` char(64) NOT NULL,
  `platform` varchar(32) DEFAULT NULL,
  `user_id` char(64) DEFAULT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  `url` longtext,
  `filename` longtext,
  `system_type` longtext,
  `version` longtext,
  `ex` longtext,
  PRIMARY KEY (`log_id`),
  KEY `idx_logs_create_time` (`create_time` DESC)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `signal` (
  `sid` char(128) NOT NULL,
  `inviter_user_id` char(64) DEFAULT NULL,
  `custom_data` text,
  `group_id` char(64) DEFAULT NULL,
  `room_id` char(128) NOT NULL,
  `timeout` int DEFAULT NULL,
  `media_type` char(64) DEFAULT NULL,
  `platform_id` int DEFAULT NULL,
  `sesstion_type` int DEFAULT NULL,
  `initiate_time` datetime(3) DEFAULT NULL,
  `end_time` datetime(3) DEFAULT NULL,
  `file_url` longtext,
  `title` varchar(128) DEFAULT NULL,
  `desc` varchar(1024) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  `ios_push_sound` longtext,
  `ios_badge_count` tinyint(1) DEFAULT NULL,
  `signal_info` varchar(1024) DEFAULT NULL,
  PRIMARY KEY (`sid`,`room_id`),
  KEY `inviter_user_id_index` (`inviter_user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `signal_invitation` (
  `user_id` varchar(191) NOT NULL,
  `sid` char(128) NOT NULL,
  `status` int DEFAULT NULL,
  `initiate_time` datetime(3) NOT NULL,
  `handle_time` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`user_id`,`sid`,`initiate_time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `meeting` (
  `room_id` varchar(128) NOT NULL,
  `meeting_name` varchar(64) DEFAULT NULL,
  `host_user_id` varchar(64) DEFAULT NULL,
  `status` bigint DEFAULT NULL,
  `start_time` bigint DEFAULT NULL,
  `end_time` bigint DEFAULT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  `ex` varchar(1024) DEFAULT NULL,
  PRIMARY KEY (`room_id`),
  KEY `room_id` (`room_id`),
  KEY `host_user_id` (`host_user_id`),
  KEY `status` (`room_id`,`status`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `meeting_invitation` (
  `room_id` varchar(128) NOT NULL,
  `user_id` varchar(64) NOT NULL,
  `create_time` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`room_id`,`user_id`),
  KEY `user_id` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE `meeting_video_record` (
  `room_id` varchar(128) DEFAULT NULL,
  `file_url` longtext,
  `create_time` datetime(3) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- chat_logs exists in 3.4 but is not migrated (OpenIM 3.5 dropped it).
CREATE TABLE `chat_logs` (
  `server_msg_id` char(64) NOT NULL,
  `content` varchar(3000) DEFAULT NULL,
  PRIMARY KEY (`server_msg_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
