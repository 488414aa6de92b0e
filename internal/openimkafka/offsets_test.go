package openimkafka

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/testenv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// kafkaAddr is the test Kafka-protocol server of scripts/test-services.sh
// (franz-go's kfake): skipped without it, failed under OPENIM_TEST_STRICT=1.
func kafkaAddr(t *testing.T) string {
	t.Helper()
	return testenv.Var(t, "OPENIM_TEST_KAFKA_ADDR")
}

func unique(t *testing.T, what string) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "pin-test-" + what + "-" + hex.EncodeToString(b[:])
}

// TestPinNewest: on a topic of 3 partitions holding 2, 0 and 5 records, a
// group with a commit on partition 0 only gets commits at the end of
// partitions 1 and 2, its own commit stays, a group with members is left
// alone (a commit for it would fail: it has members), a missing topic is
// reported; a second run pins nothing.
func TestPinNewest(t *testing.T) {
	addr := kafkaAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	topic, group, busyGroup, busyTopic := unique(t, "topic"), unique(t, "group"), unique(t, "busy"), unique(t, "busytopic")
	for _, tp := range []string{topic, busyTopic} {
		if r, err := adm.CreateTopic(ctx, 3, 1, nil, tp); err != nil || r.Err != nil {
			t.Fatalf("create topic %s: %v %v", tp, err, r.Err)
		}
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), topic, busyTopic) })
	for part, n := range map[int32]int{0: 2, 2: 5} {
		for range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: part, Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	offs := kadm.Offsets{}
	offs.AddOffset(topic, 0, 1, -1)
	if r, err := adm.CommitOffsets(ctx, group, offs); err != nil || r.Error() != nil {
		t.Fatalf("commit: %v %v", err, r.Error())
	}
	// A member of busyGroup: a consumer that joined and stays.
	member, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(busyGroup), kgo.ConsumeTopics(busyTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go func() {
		for pollCtx.Err() == nil {
			member.PollFetches(pollCtx)
		}
	}()
	waitMembers(ctx, t, adm, busyGroup)

	missing, newGroup := unique(t, "missing"), unique(t, "new")
	c := Config{Brokers: []string{addr}, Consumers: []Consumer{
		{Topic: topic, Group: group}, {Topic: busyTopic, Group: busyGroup}, {Topic: missing, Group: group + "-2"},
		{Topic: topic, Group: newGroup}, // never seen by the broker
	}}
	res, err := PinNewest(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []Pin{{group, topic, 1, 0}, {group, topic, 2, 5}, {newGroup, topic, 0, 2}, {newGroup, topic, 1, 0}, {newGroup, topic, 2, 5}}
	if !slices.Equal(res.Pinned, want) {
		t.Errorf("pinned %+v, want %+v", res.Pinned, want)
	}
	if !slices.Equal(res.BusyGroups, []string{busyGroup}) || !slices.Equal(res.MissingTopics, []string{missing}) {
		t.Errorf("busy %v missing %v, want [%s] [%s]", res.BusyGroups, res.MissingTopics, busyGroup, missing)
	}
	got, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	for part, at := range map[int32]int64{0: 1, 1: 0, 2: 5} {
		if o, ok := got.Lookup(topic, part); !ok || o.At != at {
			t.Errorf("group %s partition %d: committed %+v (found %v), want %d", group, part, o, ok, at)
		}
	}
	again, err := PinNewest(ctx, c)
	if err != nil || len(again.Pinned) != 0 {
		t.Errorf("second run pinned %+v (err %v), want nothing", again.Pinned, err)
	}
	if s := res.Summary(); s != "5 partitions without a committed offset now start at their end ("+group+" on "+topic+": 2; "+newGroup+" on "+topic+": 3)" {
		t.Errorf("summary %q", s)
	}
}

func waitMembers(ctx context.Context, t *testing.T, adm *kadm.Client, group string) {
	t.Helper()
	for ctx.Err() == nil {
		d, err := adm.DescribeGroups(ctx, group)
		if err == nil && len(d[group].Members) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("group %s got no member", group)
}

// TestFromOpenIM: the four consumer groups of kafka.yml, SASL from
// username/password, empty entries skipped, a broken TLS file refused.
func TestFromOpenIM(t *testing.T) {
	k := openimconf.Kafka{
		Username: "u", Password: "p", Address: []string{" k1:9092 ", ""},
		ToRedisTopic: "toRedis", ToRedisGroupID: "redis",
		ToMongoTopic: "toMongo", ToMongoGroupID: "mongo",
		ToPushTopic: "toPush", ToPushGroupID: "",
		ToOfflinePushTopic: "toOfflinePush", ToOfflineGroupID: "offline",
	}
	c, err := FromOpenIM(k)
	if err != nil {
		t.Fatal(err)
	}
	want := []Consumer{{"toRedis", "redis"}, {"toMongo", "mongo"}, {"toOfflinePush", "offline"}}
	if !slices.Equal(c.Consumers, want) || !slices.Equal(c.Brokers, []string{"k1:9092"}) || c.User != "u" || c.Password != "p" || c.TLS != nil {
		t.Errorf("got %+v", c)
	}
	k.TLS.EnableTLS, k.TLS.CACrt = true, t.TempDir()+"/none.pem"
	if _, err := FromOpenIM(k); err == nil {
		t.Error("a missing caCrt was accepted")
	}
}

// TestRedact: the SASL password never reaches the log through an error.
func TestRedact(t *testing.T) {
	err := redact(errors.New("SASL as u:s3cret failed; s3cret again"), "s3cret")
	if got := err.Error(); got != "SASL as u:*** failed; *** again" {
		t.Errorf("got %q", got)
	}
	if redact(nil, "x") != nil {
		t.Error("nil error changed")
	}
}
