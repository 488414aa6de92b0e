package openimkafka

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

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
	// Unreachable: no broker accepted a connection; nothing was done.
	Unreachable bool
}

// ReachTimeout is how long PinNewest waits for a broker to accept a TCP
// connection before it gives up (Result.Unreachable).
const ReachTimeout = time.Second

// PinNewest commits, for every consumer group of c, the current end offset
// of each partition of its topic that has no committed offset. It is safe to
// run at every start: a partition with a commit is never touched. When no
// broker accepts a connection within ReachTimeout it does nothing and says
// so (Result.Unreachable). The SASL password never appears in its error.
func PinNewest(ctx context.Context, c Config) (Result, error) {
	res, err := pinNewest(ctx, c)
	return res, c.Redact(err)
}

func pinNewest(ctx context.Context, c Config) (Result, error) {
	var res Result
	if len(c.Brokers) == 0 || len(c.Consumers) == 0 {
		return res, nil
	}
	if !c.reachable(ctx, ReachTimeout) {
		res.Unreachable = true
		return res, nil
	}
	cl, err := c.NewClient()
	if err != nil {
		return res, err
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
