package realopenim

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/openimsdk/protocol/sdkws"

	"github.com/openim-supervisor/openim-supervisor/internal/openimtest"
)

// TestFreshGroupsKeepMessages: an installation's first start under the
// shipped config, with OpenIM's consumer groups that have never committed an
// offset. OpenIM's consumers start a partition without a commit at the
// newest offset, and a partition that had no message has none. So messages
// sent while openim-msgtransfer is away (restarted by the operator, or on a
// real Kafka not yet joined: a new group's first join waits out
// group.initial.rebalance.delay.ms) were skipped for good when it came back.
// `run` commits the partitions' end offsets before any OpenIM process starts
// (internal/openimkafka). The same holds for what the API accepts at the
// first usable moment, before the shipped config has started msgtransfer.
// Judged through OpenIM's API (pull by seq). Without that step this test
// loses the 5 messages sent while msgtransfer was stopped (checked by hand).
func TestFreshGroupsKeepMessages(t *testing.T) {
	env := openimtest.Require(t)
	bin := openimtest.BuildSupervisor(t)
	d := openimtest.New(t, env, openimtest.Options{FreshKafkaGroups: true})
	d.UseShippedConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sup := d.StartSupervisor(t, bin)
	sup.WaitUsable(ctx, t, d)
	c := d.Client()
	ids := []string{"fresh_a", "fresh_b"}
	conv := openimtest.SingleConversationID(ids[0], ids[1])
	// At once: the shipped config starts msgtransfer and push after the API
	// (docs/design.md), so these reach Kafka before their consumers exist.
	if err := c.RegisterUsers(ctx, &sdkws.UserInfo{UserID: ids[0], Nickname: "A"}, &sdkws.UserInfo{UserID: ids[1], Nickname: "B"}); err != nil {
		t.Fatal(err)
	}
	var sent []openimtest.Sent
	send := func(text string) {
		t.Helper()
		r, err := c.SendText(ctx, ids[0], ids[1], text)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, openimtest.Sent{ConversationID: conv, SendID: ids[0], Text: text, ClientMsgID: r.ClientMsgID})
	}
	for i := range 3 {
		send(fmt.Sprintf("as soon as the API is usable #%d", i))
	}
	_, transferRan, err := d.Find("openim-msgtransfer", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3 messages sent at the first usable moment; openim-msgtransfer running by then: %v", transferRan)
	if !strings.Contains(sup.Text(), "partitions without a committed offset now start at their end") {
		t.Errorf("the supervisor did not log its Kafka step:\n%s", sup.Text())
	}
	t.Logf("supervisor: %s", grepLine(sup.Text(), "Kafka: "))
	settled := waitKafkaSettled(ctx, t, d)
	t.Logf("Kafka groups settled: %v", settled)

	ctl := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--config", d.SupervisorConfig}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openim-supervisor %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ctl("stop", "openim-msgtransfer")
	for i := range 5 {
		send(fmt.Sprintf("while msgtransfer is away #%d", i))
	}
	ctl("start", "openim-msgtransfer")
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	if _, err := c.WaitMessages(wctx, ids[1], sent); err != nil {
		t.Fatalf("messages sent before msgtransfer started, or while it was away, were not all stored: %v\n%s\nsupervisor output:\n%s",
			err, stored(ctx, d, conv), sup.Text())
	}
	t.Logf("all %d stored after msgtransfer came back", len(sent))
}

func grepLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
