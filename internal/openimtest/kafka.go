package openimtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
	"github.com/openim-supervisor/openim-supervisor/internal/openimkafka"
)

// KafkaPartitions is how many partitions each of a deployment's topics has,
// as the Kafka of OpenIM's own deployments and test/components' seeded
// topics.
const KafkaPartitions = 8

// kafkaKeys: the kafka.yml keys of OpenIM's four topics and their groups.
func kafkaKeys() []openimkafka.Topic { return openimkafka.Topics(openimconf.Kafka{}) }

func newKafkaAdmin(addr string) (*kadm.Client, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, fmt.Errorf("Kafka client for %s: %w", addr, err)
	}
	return kadm.NewClient(cl), nil
}

// prepareKafka creates the deployment's topics (KafkaPartitions each) and,
// with commit, commits offset 0 on every partition for the consumer group
// that reads it, as if OpenIM had run on them before.
//
// Why: OpenIM 3.8.3's consumers (openimsdk/tools mq/kafka
// NewMConsumerGroup) start a partition that has no committed offset at the
// newest offset (sarama.OffsetNewest). On a fresh Kafka, a message produced
// before openim-msgtransfer has joined its group, or produced to a partition
// that never had a commit while the group rebalances (a restarted
// msgtransfer), is skipped for good: /msg/send_msg answered errCode 0 and
// the message never gets a seq. The supervisor starts openim-api seconds
// before openim-msgtransfer, so a test that sends as soon as the API is
// usable loses its first messages. A real installation showed the same on
// its first start, until `run` learned to commit the end offsets itself
// (internal/openimkafka; TestFreshGroupsKeepMessages runs without
// these commits); committed offsets make the other tests independent of
// that timing (see the README, "Real OpenIM in tests").
func (d *Deployment) prepareKafka(ctx context.Context, commit bool) error {
	adm, err := newKafkaAdmin(d.Env.KafkaAddr)
	if err != nil {
		return err
	}
	defer adm.Close()
	for _, k := range kafkaKeys() {
		topic, group := d.KafkaTopics[k.TopicKey], d.KafkaGroups[k.GroupKey]
		res, err := adm.CreateTopic(ctx, KafkaPartitions, 1, nil, topic)
		if err == nil {
			err = res.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create Kafka topic %s on %s: %w", topic, d.Env.KafkaAddr, err)
		}
		if !commit {
			continue
		}
		offs := kadm.Offsets{}
		for p := range int32(KafkaPartitions) {
			offs.AddOffset(topic, p, 0, -1)
		}
		cres, err := adm.CommitOffsets(ctx, group, offs)
		if err == nil {
			err = cres.Error()
		}
		if err != nil {
			return fmt.Errorf("commit offset 0 for Kafka group %s on %s: %w", group, topic, err)
		}
	}
	return nil
}

// dropKafka deletes the deployment's consumer groups and topics, so the
// in-memory Kafka of test/components does not grow with every test.
func (d *Deployment) dropKafka(ctx context.Context) error {
	adm, err := newKafkaAdmin(d.Env.KafkaAddr)
	if err != nil {
		return err
	}
	defer adm.Close()
	var groups, topics []string
	for _, k := range kafkaKeys() {
		topics = append(topics, d.KafkaTopics[k.TopicKey])
		groups = append(groups, d.KafkaGroups[k.GroupKey])
	}
	var errs []error
	gres, err := adm.DeleteGroups(ctx, groups...)
	if err != nil {
		errs = append(errs, fmt.Errorf("delete Kafka groups: %w", err))
	}
	for g, r := range gres {
		// NON_EMPTY_GROUP: a killed or not cleanly closed consumer stays a
		// member until its session times out (sarama: 10 s); kfake then
		// keeps only an empty group record, so it is not worth the wait.
		if r.Err != nil && !errors.Is(r.Err, kerr.GroupIDNotFound) && !errors.Is(r.Err, kerr.NonEmptyGroup) {
			errs = append(errs, fmt.Errorf("delete Kafka group %s: %w", g, r.Err))
		}
	}
	tres, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		errs = append(errs, fmt.Errorf("delete Kafka topics: %w", err))
	}
	for t, r := range tres {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("delete Kafka topic %s: %w", t, r.Err))
		}
	}
	return errors.Join(errs...)
}

// KafkaState describes the deployment's consumer groups as the Kafka
// server sees them, one line per group: its state, members and the
// partitions each member holds, committed offsets and the topic's end
// offsets. For failure messages: a message that never gets a seq is often
// a group that is not consuming.
func (d *Deployment) KafkaState(ctx context.Context) (string, error) {
	adm, err := newKafkaAdmin(d.Env.KafkaAddr)
	if err != nil {
		return "", err
	}
	defer adm.Close()
	var b strings.Builder
	for _, k := range kafkaKeys() {
		topic, group := d.KafkaTopics[k.TopicKey], d.KafkaGroups[k.GroupKey]
		ds, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return "", fmt.Errorf("describe Kafka group %s: %w", group, err)
		}
		g := ds[group]
		var members []string
		for _, m := range g.Members {
			var parts []int32
			if a, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range a.Topics {
					parts = append(parts, t.Partitions...)
				}
			}
			sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
			members = append(members, fmt.Sprintf("%s%v", m.ClientHost, parts))
		}
		sort.Strings(members)
		committed := map[int32]int64{}
		if offs, err := adm.FetchOffsets(ctx, group); err == nil {
			offs.Each(func(o kadm.OffsetResponse) { committed[o.Partition] = o.At })
		}
		ends := map[int32]int64{}
		if lo, err := adm.ListEndOffsets(ctx, topic); err == nil {
			lo.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
		}
		var offs []string
		for p := range int32(KafkaPartitions) {
			offs = append(offs, fmt.Sprintf("%d:%d/%d", p, committed[p], ends[p]))
		}
		fmt.Fprintf(&b, "group %s (topic %s): %s, %d members %v, committed/end %s\n",
			group, topic, g.State, len(g.Members), members, strings.Join(offs, " "))
	}
	return b.String(), nil
}

// KafkaMembers returns the member count of each of the deployment's
// consumer groups (by kafka.yml key, e.g. toRedisGroupID), -1 for a group
// that is not Stable (rebalancing).
func (d *Deployment) KafkaMembers(ctx context.Context) (map[string]int, error) {
	adm, err := newKafkaAdmin(d.Env.KafkaAddr)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	out := map[string]int{}
	for _, k := range kafkaKeys() {
		group := d.KafkaGroups[k.GroupKey]
		ds, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return nil, fmt.Errorf("describe Kafka group %s: %w", group, err)
		}
		g := ds[group]
		if g.Err != nil {
			return nil, fmt.Errorf("describe Kafka group %s: %w", group, g.Err)
		}
		out[k.GroupKey] = len(g.Members)
		if g.State != "Stable" {
			out[k.GroupKey] = -1
		}
	}
	return out, nil
}

// WaitKafkaMembers waits until every consumer group of the deployment is
// Stable with the member counts of want (as KafkaMembers returned them
// before, say, a kill -9: a killed consumer stays a member until its
// session times out, then the group rebalances once more).
func (d *Deployment) WaitKafkaMembers(ctx context.Context, want map[string]int) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := d.KafkaMembers(ctx)
		if err == nil && fmt.Sprint(got) == fmt.Sprint(want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Kafka consumer groups: %v, want %v (%v): %w", got, want, err, ctx.Err())
		case <-tick.C:
		}
	}
}
