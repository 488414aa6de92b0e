// Package openimkafka prepares OpenIM's Kafka consumer groups for a start.
//
// OpenIM 3.8.3's consumers (openimsdk/tools mq/kafka NewMConsumerGroup:
// openim-msgtransfer's toRedis and toMongo groups, openim-push's toPush and
// toOfflinePush groups) begin a partition that has no committed offset at
// the newest offset (sarama.OffsetNewest), resolved when the consumer has
// joined its group. On a first start that is seconds after openim-api
// accepts messages (a new group's first join waits out the broker's
// group.initial.rebalance.delay.ms, 3 s by default), and later, a partition
// that never had a message keeps no commit, so every rebalance resolves it
// again. A message produced in such a window is skipped for good: the API
// answered errCode 0 and the message never gets a seq.
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
	"os"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// Consumer is one consumer group and the topic it reads.
type Consumer struct {
	Topic, Group string
}

// Config says where the brokers are and which groups to prepare.
type Config struct {
	Brokers   []string
	Consumers []Consumer
	// User and Password: SASL PLAIN, as OpenIM's sarama config uses them
	// (both empty: no SASL).
	User, Password string
	TLS            *tls.Config // nil: plain TCP
}

// FromOpenIM builds the Config from OpenIM's kafka.yml (IMENV_ overrides
// applied by openimconf): the four consumer groups of openim-msgtransfer
// and openim-push. A group or topic left empty is skipped.
func FromOpenIM(k openimconf.Kafka) (Config, error) {
	c := Config{User: k.Username, Password: k.Password}
	for _, a := range k.Address {
		if a = strings.TrimSpace(a); a != "" {
			c.Brokers = append(c.Brokers, a)
		}
	}
	for _, p := range []Consumer{
		{k.ToRedisTopic, k.ToRedisGroupID},
		{k.ToMongoTopic, k.ToMongoGroupID},
		{k.ToPushTopic, k.ToPushGroupID},
		{k.ToOfflinePushTopic, k.ToOfflineGroupID},
	} {
		if p.Topic != "" && p.Group != "" {
			c.Consumers = append(c.Consumers, p)
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

// Pin is one partition that had no committed offset for its group and now
// has one at its end.
type Pin struct {
	Group, Topic string
	Partition    int32
	Offset       int64
}

// Result says what PinNewest did.
type Result struct {
	Pinned []Pin
	// MissingTopics do not exist yet: the broker may create them at the
	// first message (auto.create.topics.enable), and the window stays open
	// for them. Create them before the first start.
	MissingTopics []string
	// BusyGroups have members already (another node consumes): left alone.
	BusyGroups []string
}

// PinNewest commits, for every consumer group of c, the current end offset
// of each partition of its topic that has no committed offset. It is safe to
// run at every start: a partition with a commit is never touched.
func PinNewest(ctx context.Context, c Config) (Result, error) {
	res, err := pinNewest(ctx, c)
	return res, redact(err, c.Password)
}

// redact keeps the SASL password out of an error (it goes to the log).
func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "***"))
}

func pinNewest(ctx context.Context, c Config) (Result, error) {
	var res Result
	if len(c.Brokers) == 0 || len(c.Consumers) == 0 {
		return res, nil
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	if c.User != "" || c.Password != "" {
		opts = append(opts, kgo.SASL(plain.Auth{User: c.User, Pass: c.Password}.AsMechanism()))
	}
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return res, fmt.Errorf("Kafka client for %s: %w", strings.Join(c.Brokers, ","), err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	var topics, groups []string
	for _, p := range c.Consumers {
		topics = append(topics, p.Topic)
		groups = append(groups, p.Group)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return res, fmt.Errorf("Kafka end offsets of %s: %w", strings.Join(topics, ", "), err)
	}
	described, err := adm.DescribeGroups(ctx, groups...)
	if err != nil {
		return res, fmt.Errorf("Kafka groups %s: %w", strings.Join(groups, ", "), err)
	}
	missing := map[string]bool{}
	var errs []error
	for _, p := range c.Consumers {
		if g, ok := described[p.Group]; ok && g.Err == nil && len(g.Members) > 0 {
			res.BusyGroups = appendOnce(res.BusyGroups, p.Group)
			continue
		}
		pins, topicMissing, err := pinGroup(ctx, adm, ends, p)
		switch {
		case err != nil:
			errs = append(errs, err)
		case topicMissing:
			missing[p.Topic] = true
		default:
			res.Pinned = append(res.Pinned, pins...)
		}
	}
	for t := range missing {
		res.MissingTopics = append(res.MissingTopics, t)
	}
	sort.Strings(res.MissingTopics)
	return res, errors.Join(errs...)
}

// pinGroup commits the end offset of each partition of p.Topic that p.Group
// has no commit for.
func pinGroup(ctx context.Context, adm *kadm.Client, ends kadm.ListedOffsets, p Consumer) (pins []Pin, topicMissing bool, err error) {
	parts, ok := ends[p.Topic]
	if !ok || len(parts) == 0 {
		return nil, true, nil
	}
	for _, o := range parts {
		if o.Err != nil {
			if errors.Is(o.Err, kerr.UnknownTopicOrPartition) {
				return nil, true, nil
			}
			return nil, false, fmt.Errorf("Kafka end offset of %s[%d]: %w", p.Topic, o.Partition, o.Err)
		}
	}
	committed, err := adm.FetchOffsets(ctx, p.Group)
	if err == nil {
		err = committed.Error()
	}
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		committed = nil // a group that never committed (some brokers say so)
	case err != nil:
		return nil, false, fmt.Errorf("Kafka offsets of group %s: %w", p.Group, err)
	}
	offs := kadm.Offsets{}
	for part, o := range parts {
		if c, ok := committed.Lookup(p.Topic, part); ok && c.At >= 0 {
			continue
		}
		offs.AddOffset(p.Topic, part, o.Offset, -1)
		pins = append(pins, Pin{Group: p.Group, Topic: p.Topic, Partition: part, Offset: o.Offset})
	}
	if len(pins) == 0 {
		return nil, false, nil
	}
	cres, err := adm.CommitOffsets(ctx, p.Group, offs)
	if err == nil {
		err = cres.Error()
	}
	if err != nil {
		return nil, false, fmt.Errorf("Kafka commit for group %s on %s: %w", p.Group, p.Topic, err)
	}
	sort.Slice(pins, func(i, j int) bool { return pins[i].Partition < pins[j].Partition })
	return pins, false, nil
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Summary is one line for the log: how many partitions of which groups
// were pinned, and what was left alone.
func (r Result) Summary() string {
	per := map[string]int{}
	for _, p := range r.Pinned {
		per[p.Group+" on "+p.Topic]++
	}
	var parts []string
	for k, n := range per {
		parts = append(parts, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(parts)
	s := fmt.Sprintf("%d partitions without a committed offset now start at their end", len(r.Pinned))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, "; ") + ")"
	}
	return s
}
