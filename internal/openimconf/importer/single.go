package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/yamlnode"
)

// target is a place in the 3.8.3 files.
type target struct{ file, key string }

// rule says where a 3.4–3.6 config.yaml key goes.
type rule struct {
	to []target
	// always: carried even when equal to the old default (addresses,
	// credentials, names of things that exist in the operator's world).
	always bool
	// why the key has no place (when to is empty).
	why string
}

func to(always bool, ts ...string) rule {
	r := rule{always: always}
	for _, t := range ts {
		f, k, _ := strings.Cut(t, ":")
		r.to = append(r.to, target{f, k})
	}
	return r
}

func none(why string) rule { return rule{why: why} }

// rpcFiles are the 3.8.3 files of services that serve RPC.
var rpcFiles = []string{"openim-push.yml", "openim-rpc-auth.yml", "openim-rpc-conversation.yml", "openim-rpc-friend.yml",
	"openim-rpc-group.yml", "openim-rpc-msg.yml", "openim-rpc-third.yml", "openim-rpc-user.yml"}

func each(files []string, key string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f + ":" + key
	}
	return out
}

// singleRules maps every config.yaml key of OpenIM 3.4–3.6 that has a place
// in 3.8.3 (or a known reason not to). Callbacks and MySQL are handled by
// prefix in ruleFor.
func singleRules() map[string]rule {
	all := append(append([]string{}, rpcFiles...), "openim-api.yml", "openim-msggateway.yml", "openim-msgtransfer.yml")
	r := map[string]rule{
		"envs.discovery":     to(true, "discovery.yml:enable"),
		"zookeeper.schema":   to(true, "discovery.yml:zooKeeper.schema"),
		"zookeeper.address":  to(true, "discovery.yml:zooKeeper.address"),
		"zookeeper.username": to(true, "discovery.yml:zooKeeper.username"),
		"zookeeper.password": to(true, "discovery.yml:zooKeeper.password"),

		"mongo.uri":         to(true, "mongodb.yml:uri"),
		"mongo.address":     to(true, "mongodb.yml:address"),
		"mongo.database":    to(true, "mongodb.yml:database"),
		"mongo.username":    to(true, "mongodb.yml:username"),
		"mongo.password":    to(true, "mongodb.yml:password"),
		"mongo.maxPoolSize": to(false, "mongodb.yml:maxPoolSize"),

		"redis.address":     to(true, "redis.yml:address"),
		"redis.username":    to(true, "redis.yml:username"),
		"redis.password":    to(true, "redis.yml:password"),
		"redis.clusterMode": to(true, "redis.yml:clusterMode"),

		"kafka.username":                   to(true, "kafka.yml:username"),
		"kafka.password":                   to(true, "kafka.yml:password"),
		"kafka.addr":                       to(true, "kafka.yml:address"),
		"kafka.latestMsgToRedis.topic":     to(false, "kafka.yml:toRedisTopic"),
		"kafka.offlineMsgToMongo.topic":    to(false, "kafka.yml:toMongoTopic"),
		"kafka.msgToPush.topic":            to(false, "kafka.yml:toPushTopic"),
		"kafka.consumerGroupID.msgToRedis": to(false, "kafka.yml:toRedisGroupID"),
		"kafka.consumerGroupID.msgToMongo": to(false, "kafka.yml:toMongoGroupID"),
		"kafka.consumerGroupID.msgToPush":  to(false, "kafka.yml:toPushGroupID"),
		"kafka.consumerGroupID.msgToMySql": none("messages are no longer stored in MySQL (OpenIM 3.5 moved to MongoDB)"),

		"rpc.registerIP":    to(false, append(each(rpcFiles, "rpc.registerIP"), "openim-msggateway.yml:rpc.registerIP")...),
		"rpc.listenIP":      to(false, append(each(rpcFiles, "rpc.listenIP"), "openim-msggateway.yml:listenIP")...),
		"api.openImApiPort": to(false, "openim-api.yml:api.ports"),
		"api.listenIP":      to(false, "openim-api.yml:api.listenIP"),

		"object.enable":                  to(true, "openim-rpc-third.yml:object.enable"),
		"object.apiURL":                  none("OpenIM 3.8 hands out object URLs from the storage itself (minio.yml externalAddress), not through the API"),
		"object.minio.bucket":            to(true, "minio.yml:bucket"),
		"object.minio.endpoint":          to(true, "minio.yml:internalAddress"),
		"object.minio.accessKeyID":       to(true, "minio.yml:accessKeyID"),
		"object.minio.secretAccessKey":   to(true, "minio.yml:secretAccessKey"),
		"object.minio.sessionToken":      to(true, "minio.yml:sessionToken"),
		"object.minio.signEndpoint":      to(true, "minio.yml:externalAddress"),
		"object.minio.publicRead":        to(false, "minio.yml:publicRead"),
		"object.aws.accessKeySecret":     to(true, "openim-rpc-third.yml:object.aws.secretAccessKey"),
		"object.aws.publicRead":          none("OpenIM 3.8.3's aws settings have no publicRead"),
		"object.aws.endpoint":            to(true, "openim-rpc-third.yml:object.aws.endpoint"),
		"rpcPort.openImUserPort":         to(false, "openim-rpc-user.yml:rpc.ports"),
		"rpcPort.openImFriendPort":       to(false, "openim-rpc-friend.yml:rpc.ports"),
		"rpcPort.openImMessagePort":      to(false, "openim-rpc-msg.yml:rpc.ports"),
		"rpcPort.openImGroupPort":        to(false, "openim-rpc-group.yml:rpc.ports"),
		"rpcPort.openImAuthPort":         to(false, "openim-rpc-auth.yml:rpc.ports"),
		"rpcPort.openImPushPort":         to(false, "openim-push.yml:rpc.ports"),
		"rpcPort.openImConversationPort": to(false, "openim-rpc-conversation.yml:rpc.ports"),
		"rpcPort.openImThirdPort":        to(false, "openim-rpc-third.yml:rpc.ports"),

		"rpcRegisterName.openImUserName":           to(false, "share.yml:rpcRegisterName.user"),
		"rpcRegisterName.openImFriendName":         to(false, "share.yml:rpcRegisterName.friend"),
		"rpcRegisterName.openImMsgName":            to(false, "share.yml:rpcRegisterName.msg"),
		"rpcRegisterName.openImPushName":           to(false, "share.yml:rpcRegisterName.push"),
		"rpcRegisterName.openImMessageGatewayName": to(false, "share.yml:rpcRegisterName.messageGateway"),
		"rpcRegisterName.openImGroupName":          to(false, "share.yml:rpcRegisterName.group"),
		"rpcRegisterName.openImAuthName":           to(false, "share.yml:rpcRegisterName.auth"),
		"rpcRegisterName.openImConversationName":   to(false, "share.yml:rpcRegisterName.conversation"),
		"rpcRegisterName.openImThirdName":          to(false, "share.yml:rpcRegisterName.third"),

		"log.storageLocation":     to(false, "log.yml:storageLocation"),
		"log.rotationTime":        to(false, "log.yml:rotationTime"),
		"log.remainRotationCount": to(false, "log.yml:remainRotationCount"),
		"log.remainLogLevel":      to(false, "log.yml:remainLogLevel"),
		"log.isStdout":            to(false, "log.yml:isStdout"),
		"log.isJson":              to(false, "log.yml:isJson"),
		"log.withStack":           to(false, "log.yml:withStack"),

		"longConnSvr.openImWsPort":             to(false, "openim-msggateway.yml:longConnSvr.ports"),
		"longConnSvr.openImMessageGatewayPort": to(false, "openim-msggateway.yml:rpc.ports"),
		"longConnSvr.websocketMaxConnNum":      to(false, "openim-msggateway.yml:longConnSvr.websocketMaxConnNum"),
		"longConnSvr.websocketMaxMsgLen":       to(false, "openim-msggateway.yml:longConnSvr.websocketMaxMsgLen"),
		"longConnSvr.websocketTimeout":         to(false, "openim-msggateway.yml:longConnSvr.websocketTimeout"),

		"push.enable":                       to(false, "openim-push.yml:enable"),
		"push.geTui.pushUrl":                to(false, "openim-push.yml:geTui.pushUrl"),
		"push.geTui.masterSecret":           to(true, "openim-push.yml:geTui.masterSecret"),
		"push.geTui.appKey":                 to(true, "openim-push.yml:geTui.appKey"),
		"push.geTui.intent":                 to(false, "openim-push.yml:geTui.intent"),
		"push.geTui.channelID":              to(false, "openim-push.yml:geTui.channelID"),
		"push.geTui.channelName":            to(false, "openim-push.yml:geTui.channelName"),
		"push.fcm.serviceAccount":           to(false, "openim-push.yml:fcm.filePath"),
		"push.jpns.appKey":                  to(true, "openim-push.yml:jpush.appKey"),
		"push.jpns.masterSecret":            to(true, "openim-push.yml:jpush.masterSecret"),
		"push.jpns.pushUrl":                 to(false, "openim-push.yml:jpush.pushURL"),
		"push.jpns.pushIntent":              to(false, "openim-push.yml:jpush.pushIntent"),
		"iosPush.pushSound":                 to(false, "openim-push.yml:iosPush.pushSound"),
		"iosPush.badgeCount":                to(false, "openim-push.yml:iosPush.badgeCount"),
		"iosPush.production":                to(false, "openim-push.yml:iosPush.production"),
		"manager.nickname":                  none("OpenIM 3.8.3 keeps admin user IDs only (share.yml imAdminUserID); nicknames have no setting"),
		"im-admin.nickname":                 none("OpenIM 3.8.3 keeps admin user IDs only (share.yml imAdminUserID); nicknames have no setting"),
		"multiLoginPolicy":                  to(false, "share.yml:multiLogin.policy"),
		"chatPersistenceMysql":              none("messages are no longer stored in MySQL (OpenIM 3.5 moved to MongoDB)"),
		"msgCacheTimeout":                   none("OpenIM 3.8.3 has no message cache timeout setting"),
		"groupMessageHasReadReceiptEnable":  none("OpenIM 3.8.3 has no read-receipt switch (always on)"),
		"singleMessageHasReadReceiptEnable": none("OpenIM 3.8.3 has no read-receipt switch (always on)"),
		"retainChatRecords":                 to(false, "openim-crontask.yml:retainChatRecords"),
		"chatRecordsClearTime":              to(false, "openim-crontask.yml:cronExecuteTime"),
		"msgDestructTime":                   none("OpenIM 3.8.3 has one cron time (openim-crontask.yml cronExecuteTime, from chatRecordsClearTime); message self-destruct has no own schedule"),
		"secret":                            to(true, "share.yml:secret"),
		"tokenPolicy.expire":                to(false, "openim-rpc-auth.yml:tokenPolicy.expire"),
		"messageVerify.friendVerify":        to(false, "openim-rpc-msg.yml:friendVerify"),
		"callback.url":                      to(false, "webhooks.yml:url"),

		"prometheus.enable":                        to(false, each(all, "prometheus.enable")...),
		"prometheus.grafanaUrl":                    to(false, "openim-api.yml:prometheus.grafanaURL"),
		"prometheus.prometheusUrl":                 none("OpenIM 3.8.3 links Grafana (openim-api.yml prometheus.grafanaURL), not Prometheus"),
		"prometheus.apiPrometheusPort":             to(false, "openim-api.yml:prometheus.ports"),
		"prometheus.userPrometheusPort":            to(false, "openim-rpc-user.yml:prometheus.ports"),
		"prometheus.friendPrometheusPort":          to(false, "openim-rpc-friend.yml:prometheus.ports"),
		"prometheus.messagePrometheusPort":         to(false, "openim-rpc-msg.yml:prometheus.ports"),
		"prometheus.messageGatewayPrometheusPort":  to(false, "openim-msggateway.yml:prometheus.ports"),
		"prometheus.groupPrometheusPort":           to(false, "openim-rpc-group.yml:prometheus.ports"),
		"prometheus.authPrometheusPort":            to(false, "openim-rpc-auth.yml:prometheus.ports"),
		"prometheus.pushPrometheusPort":            to(false, "openim-push.yml:prometheus.ports"),
		"prometheus.conversationPrometheusPort":    to(false, "openim-rpc-conversation.yml:prometheus.ports"),
		"prometheus.thirdPrometheusPort":           to(false, "openim-rpc-third.yml:prometheus.ports"),
		"prometheus.messageTransferPrometheusPort": to(false, "openim-msgtransfer.yml:prometheus.ports"),
		"prometheus.rtcPrometheusPort":             none("OpenIM 3.8.3 has no RTC service"),
	}
	for _, s := range []string{"cos", "oss", "kodo", "aws"} {
		for _, k := range []string{"bucketURL", "secretID", "secretKey", "sessionToken", "publicRead", "endpoint", "bucket",
			"accessKeyID", "accessKeySecret", "region"} {
			key := "object." + s + "." + k
			if _, set := r[key]; set {
				continue
			}
			r[key] = to(false, "openim-rpc-third.yml:"+key)
		}
	}
	return r
}

// webhookNames maps 3.4–3.6 callback names to 3.8.3 webhooks.yml sections.
var webhookNames = map[string]string{
	"beforeSendSingleMsg": "beforeSendSingleMsg", "afterSendSingleMsg": "afterSendSingleMsg",
	"beforeSendGroupMsg": "beforeSendGroupMsg", "afterSendGroupMsg": "afterSendGroupMsg",
	"msgModify": "beforeMsgModify", "userOnline": "afterUserOnline", "userOffline": "afterUserOffline",
	"userKickOff": "afterUserKickOff", "offlinePush": "beforeOfflinePush", "onlinePush": "beforeOnlinePush",
	"superGroupOnlinePush": "beforeGroupOnlinePush", "beforeAddFriend": "beforeAddFriend",
	"beforeUpdateUserInfo": "beforeUpdateUserInfo", "updateUserInfo": "afterUpdateUserInfo",
	"beforeUpdateUserInfoEx": "beforeUpdateUserInfoEx", "afterUpdateUserInfoEx": "afterUpdateUserInfoEx",
	"beforeCreateGroup": "beforeCreateGroup", "afterCreateGroup": "afterCreateGroup",
	"beforeMemberJoinGroup": "beforeMemberJoinGroup", "beforeSetGroupMemberInfo": "beforeSetGroupMemberInfo",
	"afterSetGroupMemberInfo": "afterSetGroupMemberInfo", "quitGroup": "afterQuitGroup",
	"killGroupMember": "afterKickGroupMember", "dismissGroup": "afterDismissGroup", "joinGroup": "beforeApplyJoinGroup",
	"groupMsgRead": "afterGroupMsgRead", "afterGroupMsgRead": "afterGroupMsgRead", "singleMsgRead": "afterSingleMsgRead",
	"beforeUserRegister": "beforeUserRegister", "afterUserRegister": "afterUserRegister",
	"transferGroupOwner": "afterTransferGroupOwner", "beforeSetFriendRemark": "beforeSetFriendRemark",
	"afterSetFriendRemark": "afterSetFriendRemark", "afterGroupMsgRevoke": "afterGroupMsgRevoke",
	"afterJoinGroup": "afterJoinGroup", "joinGroupAfter": "afterJoinGroup", "beforeInviteUserToGroup": "beforeInviteUserToGroup",
	"setGroupInfoAfter": "afterSetGroupInfo", "setGroupInfoBefore": "beforeSetGroupInfo", "revokeMsgAfter": "afterRevokeMsg",
	"addBlackBefore": "beforeAddBlack", "addFriendAfter": "afterAddFriend", "addFriendAgreeBefore": "beforeAddFriendAgree",
	"deleteFriendAfter": "afterDeleteFriend", "importFriendsBefore": "beforeImportFriends",
	"importFriendsAfter": "afterImportFriends", "removeBlackAfter": "afterRemoveBlack",
}

// ruleFor finds the rule of a key (exact, then by prefix).
func ruleFor(rules map[string]rule, key string) (rule, bool) {
	if r, ok := rules[key]; ok {
		return r, true
	}
	if strings.HasPrefix(key, "mysql.") {
		return none("OpenIM 3.5 moved users, groups and friends from MySQL to MongoDB; `openim-supervisor upgrade` reads this " +
			"section (keep this file for --old-config) for the 3.5.0 data migration"), true
	}
	if rest, ok := strings.CutPrefix(key, "callback."); ok {
		name, field, _ := strings.Cut(rest, ".")
		nw, ok := webhookNames[name]
		if !ok {
			return none("OpenIM 3.8.3 has no webhook for " + name), true
		}
		if field == "failedContinue" && strings.HasPrefix(nw, "after") {
			return none("OpenIM 3.8.3's after-webhooks have no failedContinue (an after-webhook cannot stop anything)"), true
		}
		return to(false, "webhooks.yml:"+nw+"."+field), true
	}
	return rule{}, false
}

// legacyVersion recognises a single-file config's release.
func legacyVersion(root *yaml.Node, forced string) (string, string, error) {
	if forced != "" {
		v := strings.TrimPrefix(forced, "v")
		switch {
		case v == "3.4.0" || v == "3.4":
			return "3.4.0", "--openim-version " + forced, nil
		case strings.HasPrefix(v, "3.4."):
			return "3.4.2", "--openim-version " + forced, nil
		case strings.HasPrefix(v, "3.5"):
			return "3.5.1", "--openim-version " + forced, nil
		case strings.HasPrefix(v, "3.6"):
			return "3.6.0", "--openim-version " + forced, nil
		}
		return "", "", fmt.Errorf("--openim-version %s: a single config.yaml is OpenIM 3.4, 3.5 or 3.6", forced)
	}
	switch {
	case yamlnode.Path(root, "mysql") != nil:
		return "3.4.0", "config.yaml with a mysql: section (OpenIM 3.4)", nil
	case yamlnode.Path(root, "object.aws") != nil || yamlnode.Path(root, "callback.beforeUpdateUserInfoEx") != nil:
		return "3.6.0", "config.yaml with object.aws (OpenIM 3.6)", nil
	case yamlnode.Path(root, "im-admin") != nil:
		return "3.5.1", "config.yaml with im-admin (OpenIM 3.5)", nil
	}
	return "3.4.2", "config.yaml without mysql: or im-admin: (OpenIM 3.4.1/3.4.2)", nil
}

func readSingle(src *source, env map[string]envVar, o Options) (*Plan, error) {
	b, err := os.ReadFile(src.path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	root, err := parseYAML(src.path, b)
	if err != nil {
		return nil, err
	}
	version, layout, err := legacyVersion(root, o.Version)
	if err != nil {
		return nil, err
	}
	p := &Plan{Version: version, Layout: layout, Source: src.path}
	def := legacyFile(version, "config.yaml")
	rules := singleRules()
	name := filepath.Base(src.path)
	var admins []string
	var adminFrom []string
	for _, l := range leaves(root) {
		from := fmt.Sprintf("%s:%d %s", name, l.Line, l.Key)
		if l.Key == "manager.userID" || l.Key == "im-admin.userID" {
			var ids []string
			_ = l.Node.Decode(&ids)
			for _, id := range ids {
				if id != "" && !contains(admins, id) {
					admins = append(admins, id)
				}
			}
			adminFrom = append(adminFrom, from)
			continue
		}
		r, ok := ruleFor(rules, l.Key)
		if !ok {
			p.unplaced(from, mask(l.Node, looksSecret(l.Key)), "OpenIM 3.8.3 has no such setting")
			continue
		}
		if len(r.to) == 0 {
			p.unplaced(from, mask(l.Node, looksSecret(l.Key)), r.why)
			continue
		}
		if !r.always && same(l.Node, yamlnode.Path(def, l.Key)) {
			p.Defaulted = append(p.Defaulted, from)
			continue
		}
		for _, t := range r.to {
			p.set(t.file, t.key, convert(t, l.Node), from)
		}
	}
	if len(admins) > 0 {
		p.set("share.yml", "imAdminUserID", listNode(admins), strings.Join(adminFrom, " + "))
	}
	if src.notif != "" {
		if err := p.readNotification(src.notif, legacyFile(version, "notification.yaml")); err != nil {
			return nil, err
		}
	}
	p.applyRuntimeEnv(env)
	p.authSource(yamlnode.Path(root, "mongo.database"))
	p.mongoWithoutAuth(yamlnode.Path(root, "mongo"))
	p.discoveryNote()
	return p, nil
}

// mongoWithoutAuth carries a MongoDB without credentials the only way
// OpenIM 3.8.3 can connect to one: as uri. Without a username and password
// OpenIM 3.4–3.7 built mongodb://ADDRESS/DATABASE?maxPoolSize=N; 3.8.3
// builds mongodb://@ADDRESS/..., which the driver rejects.
func (p *Plan) mongoWithoutAuth(old *yaml.Node) {
	val := func(key string) string {
		if c, ok := p.Lookup("mongodb.yml", key); ok {
			return c.Value.Value
		}
		if n := yamlnode.Path(old, key); n != nil {
			return n.Value
		}
		return ""
	}
	if val("uri") != "" || (val("username") != "" && val("password") != "") {
		return
	}
	var addrs []string
	if c, ok := p.Lookup("mongodb.yml", "address"); ok {
		_ = c.Value.Decode(&addrs)
	} else if n := yamlnode.Path(old, "address"); n != nil {
		_ = n.Decode(&addrs)
	}
	db := val("database")
	if len(addrs) == 0 || db == "" {
		return
	}
	pool := val("maxPoolSize")
	if pool == "" {
		pool = "100"
	}
	p.set("mongodb.yml", "uri", strNode(fmt.Sprintf("mongodb://%s/%s?maxPoolSize=%s", strings.Join(addrs, ","), db, pool)),
		"mongodb.yml address, database (no username/password: OpenIM "+p.Version+" connected without authentication)")
	p.drop("mongodb.yml", "authSource")
}

// authSource keeps MongoDB authenticating where the old release did: it
// put the database in the connection URI without authSource, so MongoDB
// authenticated against that database; 3.8.3 reads authSource (shipped as
// openim_v3).
func (p *Plan) authSource(db *yaml.Node) {
	if c, ok := p.Lookup("mongodb.yml", "database"); ok {
		db = c.Value
	}
	if db == nil || db.Value == "" {
		return
	}
	if c, ok := p.Lookup("mongodb.yml", "uri"); ok && c.Value.Value != "" {
		return // a URI says it itself
	}
	p.set("mongodb.yml", "authSource", strNode(db.Value), "mongo database "+db.Value+" (OpenIM "+p.Version+" authenticated against it)")
}

// convert adapts a value to its 3.8.3 key.
func convert(t target, v *yaml.Node) *yaml.Node {
	n := *v
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	if t.file == "discovery.yml" && t.key == "enable" {
		return strNode(discoveryKind(v.Value))
	}
	return &n
}

// discoveryKind maps old discovery names to 3.8.3's (zookeeper, k8s, etcd).
func discoveryKind(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "k8s", "kubernetes":
		return "k8s"
	case "etcd":
		return "etcd"
	}
	return "zookeeper"
}

func (p *Plan) discoveryNote() {
	if c, ok := p.Lookup("discovery.yml", "enable"); ok && c.Value.Value == "zookeeper" {
		p.Notes = append(p.Notes, "discovery stays on ZooKeeper (discovery.yml enable: zookeeper), which OpenIM 3.8.3 still supports; "+
			"OpenIM 3.8's default is etcd: import with --etcd ADDRESS, or set enable: etcd and etcd.address")
	}
}

// readNotification carries notification.yaml keys OpenIM 3.8.3 reads.
func (p *Plan) readNotification(path string, def *yaml.Node) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	root, err := parseYAML(path, b)
	if err != nil {
		return err
	}
	spec, _ := openimconf.Spec("notification.yml")
	known := map[string]bool{}
	for _, k := range openimconf.KnownKeys(spec) {
		known[strings.ToLower(k)] = true
	}
	for _, l := range leaves(root) {
		from := fmt.Sprintf("%s:%d %s", filepath.Base(path), l.Line, l.Key)
		if !known[strings.ToLower(l.Key)] {
			p.unplaced(from, mask(l.Node, false), "OpenIM 3.8.3's notification.yml has no such setting")
			continue
		}
		if same(l.Node, yamlnode.Path(def, l.Key)) {
			p.Defaulted = append(p.Defaulted, from)
			continue
		}
		p.set("notification.yml", l.Key, convert(target{"notification.yml", l.Key}, l.Node), from)
	}
	return nil
}

func looksSecret(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"password", "secret", "token"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
