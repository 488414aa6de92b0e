package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/openimkafka"
)

// A component check connects the way OpenIM 3.8.3 does, with the values
// OpenIM reads (IMENV_ overrides applied), and tells apart "unreachable"
// from "refuses the credentials": the two need different fixes.

// unreachable is the finding of a component nothing answers for.
func unreachable(subject, what string, err error, fix string) Finding {
	return Finding{Status: Fail, Subject: subject,
		Cause: what + " does not answer: " + oneLine(err), Fix: fix}
}

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// ---- MongoDB ----

type mongoCheck struct{}

func (mongoCheck) Name() string { return "mongodb" }

// mongoURI builds the URI OpenIM 3.8.3 connects with (pkg/common/storage/
// database/mgo: uri, else mongodb://user:pass@addresses/database?authSource=).
// The second result is the same without the password, for messages.
func mongoURI(uri string, addrs []string, db, user, pass, authSource string) (string, string) {
	if uri != "" {
		u, err := url.Parse(uri)
		if err != nil {
			return uri, "(the uri in mongodb.yml)"
		}
		return uri, u.Redacted()
	}
	u := url.URL{Scheme: "mongodb", Host: strings.Join(addrs, ","), Path: "/" + db}
	if user != "" || pass != "" {
		u.User = url.UserPassword(user, pass)
	}
	if authSource != "" {
		u.RawQuery = "authSource=" + url.QueryEscape(authSource)
	}
	return u.String(), u.Redacted()
}

func (mongoCheck) Run(ctx context.Context, e *Env) []Finding {
	c, sk := needOpenIM(e, "MongoDB")
	if c == nil {
		return sk
	}
	m := c.Mongo
	uri, shown := mongoURI(m.URI, m.Address, m.Database, m.Username, m.Password, m.AuthSource)
	subject := "MongoDB " + shown
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	cl, err := mongo.Connect(ctx, options.Client().ApplyURI(uri).SetServerSelectionTimeout(e.timeout()).SetConnectTimeout(e.timeout()))
	if err != nil {
		return []Finding{{Status: Fail, Subject: subject, Cause: "the MongoDB settings do not form a valid connection: " + oneLine(openimconf.RedactErr(err, m.Password)),
			Fix: "check mongodb.yml (uri, or address, database, username, password, authSource) and IMENV_MONGODB_* in the env file"}}
	}
	defer cl.Disconnect(context.WithoutCancel(ctx))
	db := m.Database
	if db == "" {
		db = "openim_v3"
	}
	sent := e.now()
	var hello bson.M
	err = cl.Database(db).RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello)
	if err == nil {
		if t, ok := hello["localTime"].(primitive.DateTime); ok {
			e.noteTime("MongoDB", t.Time(), sent)
		}
		// listCollections needs an authenticated, authorised user.
		_, err = cl.Database(db).ListCollectionNames(ctx, bson.D{})
	}
	err = openimconf.RedactErr(err, m.Password)
	switch {
	case err == nil:
		return []Finding{ok(subject, "answers; the credentials are accepted on database %s", db)}
	case isMongoAuth(err):
		return []Finding{{Status: Fail, Subject: subject,
			Cause: "refuses the credentials (" + oneLine(err) + ")",
			Fix: "set IMENV_MONGODB_USERNAME / IMENV_MONGODB_PASSWORD in the env file to a user that exists on database " +
				m.AuthSource + " (authSource; use admin for a root user) with readWrite on " + db + ", then `openim-supervisor restart all`"}}
	case isMongoUnauthorized(err):
		return []Finding{{Status: Fail, Subject: subject, Cause: "the user may not read database " + db + " (" + oneLine(err) + ")",
			Fix: "grant the user readWrite on " + db + " (db.grantRolesToUser)"}}
	default:
		return []Finding{unreachable(subject, "MongoDB", err,
			"start MongoDB, or point IMENV_MONGODB_ADDRESS (or mongodb.yml address) at it; OpenIM 3.8.3 connects to "+strings.Join(m.Address, ","))}
	}
}

// isMongoAuth reports an authentication failure: server code 18, or the
// driver's handshake error for a refused SASL conversation.
func isMongoAuth(err error) bool {
	var ce mongo.CommandError
	if errors.As(err, &ce) && (ce.Code == 18 || ce.Name == "AuthenticationFailed") {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "auth error") || strings.Contains(s, "AuthenticationFailed") ||
		strings.Contains(s, "Authentication failed")
}

func isMongoUnauthorized(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && (ce.Code == 13 || ce.Name == "Unauthorized")
}

// ---- Redis ----

type redisCheck struct{}

func (redisCheck) Name() string { return "redis" }

func (redisCheck) Run(ctx context.Context, e *Env) []Finding {
	c, sk := needOpenIM(e, "Redis")
	if c == nil {
		return sk
	}
	r := c.Redis
	subject := "Redis " + strings.Join(r.Address, ",")
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	cl := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: r.Address, Username: r.Username, Password: r.Password,
		DB: r.DB, IsClusterMode: r.ClusterMode, DialTimeout: e.timeout(), MaxRetries: -1})
	defer cl.Close()
	sent := e.now()
	t, err := cl.Time(ctx).Result()
	if err == nil {
		e.noteTime("Redis", t, sent)
		err = cl.Ping(ctx).Err()
	}
	err = openimconf.RedactErr(err, r.Password)
	switch {
	case err == nil:
		return []Finding{ok(subject, "answers; the password is accepted")}
	case isRedisAuth(err):
		return []Finding{{Status: Fail, Subject: subject, Cause: "refuses the credentials (" + oneLine(err) + ")",
			Fix: "set IMENV_REDIS_PASSWORD (and IMENV_REDIS_USERNAME for an ACL user) in the env file to Redis's requirepass, then `openim-supervisor restart all`"}}
	default:
		return []Finding{unreachable(subject, "Redis", err,
			"start Redis (systemctl start redis-server), or point IMENV_REDIS_ADDRESS (or redis.yml address) at it")}
	}
}

func isRedisAuth(err error) bool {
	s := err.Error()
	for _, w := range []string{"NOAUTH", "WRONGPASS", "invalid password", "invalid username-password", "AUTH <password> called without"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// ---- Kafka ----

type kafkaCheck struct{}

func (kafkaCheck) Name() string { return "kafka" }

func (kafkaCheck) Run(ctx context.Context, e *Env) []Finding {
	c, sk := needOpenIM(e, "Kafka")
	if c == nil {
		return sk
	}
	k := c.Kafka
	subject := "Kafka " + strings.Join(k.Address, ",")
	if k.TLS.EnableTLS {
		subject += " (TLS)"
	}
	kc, err := openimkafka.FromOpenIM(k)
	if err != nil {
		return []Finding{{Status: Fail, Subject: subject, Cause: oneLine(err) + ": OpenIM cannot connect with these settings either",
			Fix: "point kafka.yml tls caCrt, clientCrt and clientKey (IMENV_KAFKA_TLS_*) at readable PEM files"}}
	}
	cl, err := kc.NewClient(kgo.DialTimeout(e.timeout()), kgo.RequestRetries(0), kgo.RetryTimeout(e.timeout()))
	if err != nil {
		return []Finding{{Status: Fail, Subject: subject, Cause: "kafka.yml does not form a client: " + oneLine(kc.Redact(err)), Fix: "check kafka.yml address"}}
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	var names []string
	for _, t := range openimkafka.Topics(k) {
		if t.Name != "" {
			names = append(names, t.Name)
		}
	}
	details, err := kadm.NewClient(cl).ListTopics(ctx, names...)
	if err != nil {
		login := k.Username != "" || k.Password != ""
		eof, refused := errors.Is(err, io.EOF), errors.Is(err, kerr.SaslAuthenticationFailed)
		err = kc.Redact(err) // the text only: test the chain before
		switch {
		case refused || strings.Contains(err.Error(), "SASL") || strings.Contains(err.Error(), "authentication"):
			return []Finding{{Status: Fail, Subject: subject, Cause: "refuses the credentials (" + oneLine(err) + ")",
				Fix: "set IMENV_KAFKA_USERNAME / IMENV_KAFKA_PASSWORD in the env file to a SASL/PLAIN user of the brokers"}}
		case login && eof:
			// Some brokers hang up on a wrong login instead of answering,
			// and a TLS listener hangs up on a plain client.
			return []Finding{{Status: Fail, Subject: subject, Cause: "closes the connection at login (" + oneLine(err) + "): the credentials are refused, or the listener expects TLS",
				Fix: "set IMENV_KAFKA_USERNAME / IMENV_KAFKA_PASSWORD in the env file to a SASL/PLAIN user of the brokers; for a SASL_SSL listener set kafka.yml tls.enableTLS: true"}}
		}
		if isTLSFailure(err) {
			return []Finding{{Status: Fail, Subject: subject, Cause: "the TLS handshake fails (" + oneLine(err) + ")",
				Fix: "check kafka.yml tls: caCrt must sign the brokers' certificates, clientCrt/clientKey must be a pair the brokers accept, and enableTLS must match the brokers' listener"}}
		}
		return []Finding{unreachable(subject, "Kafka", err, "start Kafka, or point IMENV_KAFKA_ADDRESS (or kafka.yml address) at a broker")}
	}
	var out []Finding
	for _, t := range openimkafka.Topics(k) {
		if t.Name == "" {
			continue
		}
		d, found := details[t.Name]
		if !found || d.Err != nil {
			cause := "topic " + t.Name + " (kafka.yml " + t.TopicKey + ") does not exist"
			if found && d.Err != nil {
				cause += " (" + d.Err.Error() + ")"
			}
			out = append(out, Finding{Status: Fail, Subject: subject, Cause: cause + ": OpenIM cannot pass messages through it",
				Fix: fmt.Sprintf("create it: kafka-topics.sh --bootstrap-server %s --create --topic %s --partitions 8 (or enable auto-creation on the brokers)", firstOf(k.Address), t.Name)})
		}
	}
	if len(out) == 0 {
		return []Finding{ok(subject, "answers; topics %s exist", strings.Join(names, ", "))}
	}
	return out
}

// isTLSFailure reports a failed TLS handshake (an unknown authority, a
// refused client certificate, a plain listener).
func isTLSFailure(err error) bool {
	var ce *tls.CertificateVerificationError
	var re tls.RecordHeaderError
	var ae tls.AlertError
	if errors.As(err, &ce) || errors.As(err, &re) || errors.As(err, &ae) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "tls:") || strings.Contains(s, "x509:")
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// ---- etcd ----

type etcdCheck struct{}

func (etcdCheck) Name() string { return "etcd" }

func (etcdCheck) Run(ctx context.Context, e *Env) []Finding {
	c, sk := needOpenIM(e, "etcd")
	if c == nil {
		return sk
	}
	d := c.Discovery
	if d.Enable != "etcd" {
		return []Finding{ok("discovery", "enable is %q, not etcd", d.Enable)}
	}
	if len(d.Etcd.Address) == 0 {
		return []Finding{{Status: Fail, Subject: "etcd", Cause: "discovery.yml has no etcd address", Fix: "set IMENV_DISCOVERY_ETCD_ADDRESS"}}
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	var errs []string
	for _, addr := range d.Etcd.Address {
		subject := "etcd " + addr
		var v struct {
			Server string `json:"etcdserver"`
		}
		if err := httpJSON(ctx, http.MethodGet, "http://"+addr+"/version", nil, &v); err != nil {
			errs = append(errs, addr+": "+oneLine(err))
			continue
		}
		if d.Etcd.Username != "" {
			var tok struct {
				Token string `json:"token"`
			}
			err := httpJSON(ctx, http.MethodPost, "http://"+addr+"/v3/auth/authenticate",
				map[string]string{"name": d.Etcd.Username, "password": d.Etcd.Password}, &tok)
			if err != nil {
				return []Finding{{Status: Fail, Subject: subject, Cause: "refuses the credentials (" + oneLine(openimconf.RedactErr(err, d.Etcd.Password)) + ")",
					Fix: "set IMENV_DISCOVERY_ETCD_USERNAME / IMENV_DISCOVERY_ETCD_PASSWORD in the env file to an etcd user (etcdctl user list)"}}
			}
		}
		return []Finding{ok(subject, "answers (etcd %s)", v.Server)}
	}
	return []Finding{{Status: Fail, Subject: "etcd " + strings.Join(d.Etcd.Address, ","),
		Cause: "no etcd endpoint answers: " + strings.Join(errs, "; ") + "; the OpenIM services cannot find each other",
		Fix:   "start etcd (systemctl start etcd), or point IMENV_DISCOVERY_ETCD_ADDRESS (discovery.yml etcd.address) at it"}}
}

// httpJSON sends body as JSON (when not nil) and decodes a 2xx answer into out.
func httpJSON(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, out)
}

// ---- object storage ----

type objectStorage struct{}

func (objectStorage) Name() string { return "object-storage" }

func (objectStorage) Run(ctx context.Context, e *Env) []Finding {
	c, sk := needOpenIM(e, "object storage")
	if c == nil {
		return sk
	}
	if c.Third.Object.Enable != "minio" {
		return skip("object storage", "openim-rpc-third.yml object.enable is "+c.Third.Object.Enable+"; only minio is checked")
	}
	addr := c.Minio.InternalAddress
	subject := "MinIO " + addr
	u := addr
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(u, "/")+"/minio/health/live", nil)
	if err != nil {
		return []Finding{{Status: Fail, Subject: subject, Cause: "internalAddress is not an address: " + oneLine(err), Fix: "set IMENV_MINIO_INTERNALADDRESS=host:port"}}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ne net.Error
		_ = errors.As(err, &ne)
		return []Finding{unreachable(subject, "MinIO", err, "start MinIO, or point IMENV_MINIO_INTERNALADDRESS (minio.yml internalAddress) at it; openim-rpc-third exits without it")}
	}
	resp.Body.Close()
	return []Finding{ok(subject, "answers (HTTP %d); the access key is not checked by doctor", resp.StatusCode)}
}
