package openimconf

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"

	"github.com/mitchellh/mapstructure"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// Config is the typed view of a whole config dir: what each OpenIM 3.8.3
// service decodes from its files. A file that is missing decodes as zero.
type Config struct {
	Notification Notification
	Share        Share
	Webhooks     Webhooks
	LocalCache   LocalCache
	Kafka        Kafka
	Redis        Redis
	Mongo        Mongo
	Minio        Minio
	Log          Log
	API          API
	CronTask     CronTask
	MsgGateway   MsgGateway
	MsgTransfer  MsgTransfer
	Push         Push
	Auth         Auth
	Conversation Conversation
	Friend       Friend
	Group        Group
	Msg          Msg
	Third        Third
	User         User
	Discovery    Discovery
}

// field returns the Config field for a file name.
func (c *Config) field(name string) any {
	switch name {
	case "notification.yml":
		return &c.Notification
	case "share.yml":
		return &c.Share
	case "webhooks.yml":
		return &c.Webhooks
	case "local-cache.yml":
		return &c.LocalCache
	case "kafka.yml":
		return &c.Kafka
	case "redis.yml":
		return &c.Redis
	case "mongodb.yml":
		return &c.Mongo
	case "minio.yml":
		return &c.Minio
	case "log.yml":
		return &c.Log
	case "openim-api.yml":
		return &c.API
	case "openim-crontask.yml":
		return &c.CronTask
	case "openim-msggateway.yml":
		return &c.MsgGateway
	case "openim-msgtransfer.yml":
		return &c.MsgTransfer
	case "openim-push.yml":
		return &c.Push
	case "openim-rpc-auth.yml":
		return &c.Auth
	case "openim-rpc-conversation.yml":
		return &c.Conversation
	case "openim-rpc-friend.yml":
		return &c.Friend
	case "openim-rpc-group.yml":
		return &c.Group
	case "openim-rpc-msg.yml":
		return &c.Msg
	case "openim-rpc-third.yml":
		return &c.Third
	case "openim-rpc-user.yml":
		return &c.User
	case "discovery.yml":
		return &c.Discovery
	}
	return nil
}

// Typed decodes every file of the dir the way OpenIM 3.8.3's loader does
// (viper's leaf keys, IMENV_ overrides, mapstructure with weak typing and
// comma-separated lists). Problems are config.Errors with file and line.
func (d *Dir) Typed() (*Config, error) {
	c := &Config{}
	var errs config.Errors
	for _, spec := range Files() {
		f := d.Files[spec.Name]
		if f == nil {
			continue
		}
		if err := d.Decode(spec.Name, c.field(spec.Name)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

// Decode decodes one file into out (a pointer to its struct, or any
// struct with mapstructure tags) as OpenIM's loader does.
func (d *Dir) Decode(name string, out any) error {
	f := d.Files[name]
	if f == nil {
		return &config.Error{File: d.FilePath(name), Msg: "missing", Fix: "OpenIM " + Version + " needs this file"}
	}
	m, err := d.settings(f)
	if err != nil {
		return err
	}
	dec, err := mapstructure.NewDecoder(decoderConfig(out))
	if err != nil {
		return fmt.Errorf("decode %s: %w", f.Path, err)
	}
	if err := dec.Decode(m); err != nil {
		return d.decodeErrors(f, err)
	}
	return nil
}

// decoderConfig is viper 1.18's defaultDecoderConfig, which OpenIM uses.
func decoderConfig(out any) *mapstructure.DecoderConfig {
	return &mapstructure.DecoderConfig{
		Result:           out,
		WeaklyTypedInput: true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		),
	}
}

var quotedKey = regexp.MustCompile(`'([^']*)'`)

// decodeErrors turns mapstructure's error list into located errors.
func (d *Dir) decodeErrors(f *File, err error) error {
	var me *mapstructure.Error
	if !errors.As(err, &me) {
		return &config.Error{File: f.Path, Msg: err.Error()}
	}
	leaves := map[string]Leaf{}
	for _, l := range d.Leaves(f) {
		leaves[strings.ToLower(l.Key)] = l
	}
	var errs config.Errors
	for _, e := range me.Errors {
		ce := &config.Error{File: f.Path, Msg: "OpenIM cannot read this value: " + e,
			Fix: "write a value of the type OpenIM " + Version + " expects (see its shipped file)"}
		if m := quotedKey.FindStringSubmatch(e); m != nil {
			key := m[1]
			if i := strings.IndexByte(key, '['); i >= 0 {
				key = key[:i]
			}
			ce.Key = key
			if l, ok := leaves[strings.ToLower(key)]; ok {
				ce.Line = l.Line
				if l.FromEnv {
					// Never the value: it may be a secret.
					ce.Msg = fmt.Sprintf("OpenIM cannot read the value of %s (from %s): %s", l.Var, d.envWhere(l.Var), stripValue(e))
					ce.Fix = "fix " + l.Var
				}
			}
		}
		errs = append(errs, ce)
	}
	return errs
}

func (d *Dir) envWhere(name string) string {
	where, _, _ := d.setenv(name)
	return where
}

var valueInMsg = regexp.MustCompile(`"[^"]*"`)

// stripValue removes quoted values from a mapstructure message.
func stripValue(msg string) string { return valueInMsg.ReplaceAllString(msg, `"…"`) }

// With returns a view of the dir with extra variables set after the env
// file (a process's own env: entries), as that process would see it.
func (d *Dir) With(extra map[string]string) *Dir {
	if len(extra) == 0 {
		return d
	}
	cp := *d
	cp.env = maps.Clone(d.env)
	if cp.env == nil {
		cp.env = map[string]string{}
	}
	maps.Copy(cp.env, extra)
	return &cp
}
