package doctor

import (
	"context"
	"net"
	"net/url"
	"strings"
)

// DefaultSecret is the value OpenIM ships for its secret and every password.
const DefaultSecret = "openIM123"

// defaultSecret: share.yml's secret (anyone who knows it gets an admin
// token) or a component password still at OpenIM's shipped openIM123.
type defaultSecret struct{}

func (defaultSecret) Name() string { return "default-secret" }

func (defaultSecret) Run(_ context.Context, e *Env) []Finding {
	c, sk := needOpenIM(e, "secrets")
	if c == nil {
		return sk
	}
	var out []Finding
	if c.Share.Secret == DefaultSecret {
		out = append(out, Finding{Status: Fail, Subject: "share.yml secret",
			Cause: "is OpenIM's published default " + DefaultSecret + ": anyone can get an admin token from the API",
			Fix:   "set IMENV_SHARE_SECRET=<a long random string> in the env file (e.g. `openssl rand -hex 24`), then `openim-supervisor restart all`"})
	}
	for _, p := range []struct{ what, value, env string }{
		{"mongodb.yml password", c.Mongo.Password, "IMENV_MONGODB_PASSWORD"},
		{"redis.yml password", c.Redis.Password, "IMENV_REDIS_PASSWORD"},
		{"minio.yml secretAccessKey", c.Minio.SecretAccessKey, "IMENV_MINIO_SECRETACCESSKEY"},
	} {
		if p.value == DefaultSecret {
			out = append(out, Finding{Status: Warn, Subject: p.what,
				Cause: "is OpenIM's published default " + DefaultSecret,
				Fix:   "change the password in the component, then set " + p.env + " in the env file to the new one"})
		}
	}
	if len(out) == 0 {
		return []Finding{ok("secrets", "share.yml's secret and the component passwords are not OpenIM's defaults")}
	}
	return out
}

// externalAddress: an address clients use that was left at localhost or
// at the placeholder of OpenIM's shipped file (minio externalAddress:
// http://external_ip:10005): files and pictures then fail on every client.
type externalAddress struct{}

func (externalAddress) Name() string { return "external-address" }

func (externalAddress) Run(_ context.Context, e *Env) []Finding {
	c, sk := needOpenIM(e, "external addresses")
	if c == nil {
		return sk
	}
	if c.Third.Object.Enable != "minio" {
		return []Finding{ok("minio.yml externalAddress", "object storage is %q, not minio", c.Third.Object.Enable)}
	}
	addr := c.Minio.ExternalAddress
	if why := notExternal(addr); why != "" {
		return []Finding{{Status: Fail, Subject: "minio.yml externalAddress",
			Cause: addr + " " + why + ": clients get file and picture URLs they cannot open",
			Fix:   "set IMENV_MINIO_EXTERNALADDRESS=http://<this server's public IP or domain>:10005 in the env file (the address phones and browsers reach), then restart openim-rpc-third"}}
	}
	return []Finding{ok("minio.yml externalAddress", "%s", addr)}
}

// notExternal says why an URL is not reachable from other machines, or "".
func notExternal(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "is empty"
	}
	u, err := url.Parse(raw)
	host := ""
	if err == nil {
		host = u.Hostname()
	}
	if host == "" {
		host, _, _ = net.SplitHostPort(raw)
	}
	switch {
	case host == "":
		return "has no host"
	case host == "external_ip":
		return "is still the placeholder of OpenIM's shipped minio.yml"
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return "points at localhost"
	}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return "points at " + host + ", which is this machine only for the client"
	}
	return ""
}
