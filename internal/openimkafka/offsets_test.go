package openimkafka

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"slices"
	"strings"
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

// TestPinNewestSecure: kafka.yml's TLS (CA, client certificate) and SASL
// PLAIN settings reach a broker that accepts nothing else: every partition
// of the four groups is pinned. A wrong password fails and is not in the
// error; so does a CA that did not sign the broker's certificate.
func TestPinNewestSecure(t *testing.T) {
	sk := testenv.StartSecureKafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := openimconf.Kafka{Address: []string{sk.Addr}, Username: sk.User, Password: sk.Password,
		ToRedisTopic: "toRedis", ToRedisGroupID: "redis", ToMongoTopic: "toMongo", ToMongoGroupID: "mongo",
		ToPushTopic: "toPush", ToPushGroupID: "push", ToOfflinePushTopic: "toOfflinePush", ToOfflineGroupID: "offline",
		TLS: openimconf.TLSConfig{EnableTLS: true, CACrt: sk.CA, ClientCrt: sk.ClientCert, ClientKey: sk.ClientKey}}
	c, err := FromOpenIM(k)
	if err != nil {
		t.Fatal(err)
	}
	res, err := PinNewest(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pinned) != 4*8 {
		t.Errorf("pinned %d partitions, want 32 (4 groups of 8): %s", len(res.Pinned), res.Summary())
	}

	short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
	defer cancelShort()
	wrong := c
	wrong.Password = "not-the-password-9"
	if _, err := PinNewest(short, wrong); err == nil {
		t.Error("a wrong password was accepted")
	} else if strings.Contains(err.Error(), wrong.Password) {
		t.Errorf("the error shows the password: %v", err)
	}
	k.TLS.CACrt = sk.OtherCA
	other, err := FromOpenIM(k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PinNewest(short, other); err == nil {
		t.Error("a broker certificate from another CA was accepted")
	}
}

// TestPinNewestUnreachable: with no broker listening, PinNewest gives up
// within ReachTimeout, says so, and returns no error.
func TestPinNewestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	res, err := PinNewest(context.Background(), Config{Brokers: []string{addr}, Consumers: []Consumer{{"t", "g"}}})
	if err != nil || !res.Unreachable || len(res.Pinned) != 0 {
		t.Errorf("got %+v, %v; want Unreachable and no error", res, err)
	}
	if d := time.Since(start); d > ReachTimeout+time.Second {
		t.Errorf("took %v", d)
	}
}
