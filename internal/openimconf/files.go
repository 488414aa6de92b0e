package openimconf

import (
	"strings"
)

// Version is the OpenIM release whose config layout this package knows.
const Version = "3.8.3"

// FileSpec is one of the yml files OpenIM 3.8.3's services load from the
// config dir (`-c DIR`), each with its own IMENV_ prefix and struct.
type FileSpec struct {
	// Name is the file name in the config dir, e.g. "openim-api.yml".
	Name string
	// Prefix is the environment prefix OpenIM's loader uses for the file,
	// e.g. "IMENV_OPENIM_API" (variables are PREFIX_KEY_SUBKEY).
	Prefix string
	// New returns a pointer to a zero value of the file's struct.
	New func() any
}

// Files lists the 22 files OpenIM 3.8.3 loads, in OpenIM's own order
// (pkg/common/cmd/constant.go). The monitoring files shipped beside them
// (prometheus.yml, alertmanager.yml, ...) are not read by the services.
func Files() []FileSpec {
	specs := []FileSpec{
		{Name: "notification.yml", New: func() any { return new(Notification) }},
		{Name: "share.yml", New: func() any { return new(Share) }},
		{Name: "webhooks.yml", New: func() any { return new(Webhooks) }},
		{Name: "local-cache.yml", New: func() any { return new(LocalCache) }},
		{Name: "kafka.yml", New: func() any { return new(Kafka) }},
		{Name: "redis.yml", New: func() any { return new(Redis) }},
		{Name: "mongodb.yml", New: func() any { return new(Mongo) }},
		{Name: "minio.yml", New: func() any { return new(Minio) }},
		{Name: "log.yml", New: func() any { return new(Log) }},
		{Name: "openim-api.yml", New: func() any { return new(API) }},
		{Name: "openim-crontask.yml", New: func() any { return new(CronTask) }},
		{Name: "openim-msggateway.yml", New: func() any { return new(MsgGateway) }},
		{Name: "openim-msgtransfer.yml", New: func() any { return new(MsgTransfer) }},
		{Name: "openim-push.yml", New: func() any { return new(Push) }},
		{Name: "openim-rpc-auth.yml", New: func() any { return new(Auth) }},
		{Name: "openim-rpc-conversation.yml", New: func() any { return new(Conversation) }},
		{Name: "openim-rpc-friend.yml", New: func() any { return new(Friend) }},
		{Name: "openim-rpc-group.yml", New: func() any { return new(Group) }},
		{Name: "openim-rpc-msg.yml", New: func() any { return new(Msg) }},
		{Name: "openim-rpc-third.yml", New: func() any { return new(Third) }},
		{Name: "openim-rpc-user.yml", New: func() any { return new(User) }},
		{Name: "discovery.yml", New: func() any { return new(Discovery) }},
	}
	for i := range specs {
		specs[i].Prefix = EnvPrefix(specs[i].Name)
	}
	return specs
}

// Spec returns the FileSpec of a file name, or false when OpenIM 3.8.3 does
// not load a file of that name.
func Spec(name string) (FileSpec, bool) {
	for _, s := range Files() {
		if s.Name == name {
			return s, true
		}
	}
	return FileSpec{}, false
}

// EnvPrefix is OpenIM's rule for a file's environment prefix: "IMENV_" plus
// the name without .yml/.yaml, upper-cased, "-" replaced by "_".
func EnvPrefix(name string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".yml"), ".yaml")
	return strings.ToUpper(strings.ReplaceAll("IMENV_"+base, "-", "_"))
}

// EnvVar is the variable that overrides key (dotted, as in "api.ports") of
// file name: PREFIX_API_PORTS.
func EnvVar(name, key string) string {
	return strings.ToUpper(EnvPrefix(name) + "_" + strings.ReplaceAll(key, ".", "_"))
}

// Service describes how an OpenIM 3.8.3 service uses its instance index:
// `-i N` picks element N of each of these port lists, and a list shorter
// than the instance count makes the extra instances fail at start.
type Service struct {
	// Name is the binary, e.g. "openim-push".
	Name string
	// File is its own yml file.
	File string
	// Indexed are the dotted keys of the port lists indexed by -i (the
	// prometheus list only counts when prometheus.enable is true).
	Indexed []string
	// Public is the key of the port clients connect to (api.ports,
	// longConnSvr.ports), "" when there is none: the one the supervisor's
	// readiness check and `ports:` must agree with.
	Public string
}

// Services lists OpenIM 3.8.3's 12 services.
func Services() []Service {
	rpc := func(name string) Service {
		return Service{Name: name, File: name + ".yml", Indexed: []string{"rpc.ports", "prometheus.ports"}}
	}
	return []Service{
		{Name: "openim-api", File: "openim-api.yml", Indexed: []string{"api.ports", "prometheus.ports"}, Public: "api.ports"},
		{Name: "openim-crontask", File: "openim-crontask.yml"},
		{Name: "openim-msggateway", File: "openim-msggateway.yml",
			Indexed: []string{"longConnSvr.ports", "rpc.ports", "prometheus.ports"}, Public: "longConnSvr.ports"},
		{Name: "openim-msgtransfer", File: "openim-msgtransfer.yml", Indexed: []string{"prometheus.ports"}},
		rpc("openim-push"),
		rpc("openim-rpc-auth"),
		rpc("openim-rpc-conversation"),
		rpc("openim-rpc-friend"),
		rpc("openim-rpc-group"),
		rpc("openim-rpc-msg"),
		rpc("openim-rpc-third"),
		rpc("openim-rpc-user"),
	}
}

// ServiceByName returns the Service of a binary name.
func ServiceByName(name string) (Service, bool) {
	for _, s := range Services() {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}
