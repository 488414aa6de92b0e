// Package openimkafka talks to OpenIM's Kafka the way OpenIM 3.8.3 does
// (kafka.yml's brokers, SASL PLAIN and TLS, IMENV_ overrides applied) and
// knows OpenIM's four topics and the consumer group that reads each. `run`
// uses it to prepare those groups for a start (PinNewest), `doctor` to
// check the brokers and topics.
//
// Why the groups need preparing: OpenIM 3.8.3's consumers (openimsdk/tools
// mq/kafka NewMConsumerGroup: openim-msgtransfer's toRedis and toMongo
// groups, openim-push's toPush and toOfflinePush groups) begin a partition
// that has no committed offset at the newest offset (sarama.OffsetNewest),
// resolved when the consumer has joined its group. On a first start that is
// seconds after openim-api accepts messages (a new group's first join waits
// out the broker's group.initial.rebalance.delay.ms, 3 s by default), and
// later, a partition that never had a message keeps no commit, so every
// rebalance resolves it again. A message produced in such a window is
// skipped for good: the API answered errCode 0 and the message never gets a
// seq.
//
// PinNewest closes the window the way OpenIM meant it: before any OpenIM
// process starts, each partition that has no committed offset for its group
// gets one at the partition's current end, the offset OffsetNewest would
// have picked at that moment. Committed offsets are never moved, groups that
// have members (another node consumes) are left alone, and topics are never
// created (that is the operator's choice of partitions).
package openimkafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// Topic is one of the four topics OpenIM 3.8.3 passes messages through: the
// kafka.yml keys that name it and the group that reads it, and their values.
type Topic struct {
	TopicKey, GroupKey string // e.g. toRedisTopic, toRedisGroupID
	Name, Group        string
}

// Topics lists OpenIM's four topics with k's values, in kafka.yml's order
// (Topics(openimconf.Kafka{}) gives the keys alone).
func Topics(k openimconf.Kafka) []Topic {
	return []Topic{
		{"toRedisTopic", "toRedisGroupID", k.ToRedisTopic, k.ToRedisGroupID},
		{"toMongoTopic", "toMongoGroupID", k.ToMongoTopic, k.ToMongoGroupID},
		{"toPushTopic", "toPushGroupID", k.ToPushTopic, k.ToPushGroupID},
		{"toOfflinePushTopic", "toOfflinePushGroupID", k.ToOfflinePushTopic, k.ToOfflineGroupID},
	}
}

// Consumer is one consumer group and the topic it reads.
type Consumer struct {
	Topic, Group string
}

// Config says where the brokers are, how to log in, and which groups to
// prepare.
type Config struct {
	Brokers   []string
	Consumers []Consumer
	// User and Password: SASL PLAIN, as OpenIM's sarama config uses them
	// (both empty: no SASL).
	User, Password string
	TLS            *tls.Config // nil: plain TCP
}

// FromOpenIM builds the Config from OpenIM's kafka.yml (IMENV_ overrides
// applied by openimconf): the consumer groups of openim-msgtransfer and
// openim-push. A group or topic left empty is skipped. TLS is set up as
// OpenIM's sarama config does it; an error names the kafka.yml key.
func FromOpenIM(k openimconf.Kafka) (Config, error) {
	c := Config{User: k.Username, Password: k.Password}
	for _, a := range k.Address {
		if a = strings.TrimSpace(a); a != "" {
			c.Brokers = append(c.Brokers, a)
		}
	}
	for _, t := range Topics(k) {
		if t.Name != "" && t.Group != "" {
			c.Consumers = append(c.Consumers, Consumer{Topic: t.Name, Group: t.Group})
		}
	}
	if k.TLS.EnableTLS {
		t, err := tlsConfig(k.TLS)
		if err != nil {
			return Config{}, fmt.Errorf("kafka.yml tls: %w", err)
		}
		c.TLS = t
	}
	return c, nil
}

func tlsConfig(t openimconf.TLSConfig) (*tls.Config, error) {
	c := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the operator's own setting, as OpenIM applies it
	if t.CACrt != "" {
		pem, err := os.ReadFile(t.CACrt)
		if err != nil {
			return nil, fmt.Errorf("caCrt: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("caCrt %s: no PEM certificate in it", t.CACrt)
		}
		c.RootCAs = pool
	}
	if t.ClientCrt != "" || t.ClientKey != "" {
		if t.ClientKeyPwd != "" {
			return nil, errors.New("an encrypted clientKey (clientKeyPwd) is not supported here")
		}
		cert, err := tls.LoadX509KeyPair(t.ClientCrt, t.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("clientCrt/clientKey: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// NewClient returns a client of c's brokers with c's SASL and TLS settings,
// then opts (timeouts, retries).
func (c Config) NewClient(opts ...kgo.Opt) (*kgo.Client, error) {
	base := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	if c.User != "" || c.Password != "" {
		base = append(base, kgo.SASL(plain.Auth{User: c.User, Pass: c.Password}.AsMechanism()))
	}
	if c.TLS != nil {
		base = append(base, kgo.DialTLSConfig(c.TLS))
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("Kafka client for %s: %w", strings.Join(c.Brokers, ","), err)
	}
	return cl, nil
}

// Redact keeps the SASL password out of err (it goes to a log or a report).
func (c Config) Redact(err error) error { return openimconf.RedactErr(err, c.Password) }

// reachable reports whether any broker accepts a TCP connection within
// timeout: a client of brokers that are all down retries for much longer.
func (c Config) reachable(ctx context.Context, timeout time.Duration) bool {
	for _, b := range c.Brokers {
		d := net.Dialer{Timeout: timeout}
		if conn, err := d.DialContext(ctx, "tcp", b); err == nil {
			conn.Close()
			return true
		}
	}
	return false
}
