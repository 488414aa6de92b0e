//go:build tools

// Package openim pins OpenIM's commands so `go build` can build them from this
// module; it is never compiled (build tag "tools").
package openim

import (
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-api"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-crontask"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-msggateway"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-msgtransfer"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-push"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-auth"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-conversation"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-friend"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-group"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-msg"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-third"
	_ "github.com/openimsdk/open-im-server/v3/cmd/openim-rpc/openim-rpc-user"
	_ "github.com/openimsdk/open-im-server/v3/tools/check-component"
	_ "github.com/openimsdk/open-im-server/v3/tools/check-free-memory"
	_ "github.com/openimsdk/open-im-server/v3/tools/seq"
)
