package upgrade

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// slowExtend makes renewals 1, 3, ... 2n-1 of l take delay (honouring ctx)
// before they reach the database; calls counts every renewal.
func slowExtend(l *lease, n int32, delay time.Duration, calls *atomic.Int32) {
	real := l.extend
	l.extend = func(ctx context.Context, at time.Time) (*mongo.UpdateResult, error) {
		if k := calls.Add(1); k%2 == 1 && k < 2*n {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return real(ctx, at)
	}
}

// TestSlowLeaseRenewalKeepsTheStep: renewals slower than the renewal
// interval (what FerretDB, one SQLite writer busy with the step's own bulk
// writes, does) neither cancel the step nor lose the lease, as long as each
// gets through before the lease expires. (The limit: every renewal extends
// the lease to its send time + ttl, so a run of renewals each slower than
// ttl/2 loses it; TestLeaseLostWhenExpiredOrTakenOver shows the loss.)
func TestSlowLeaseRenewalKeepsTheStep(t *testing.T) {
	t.Parallel()
	s := newServers(t, false, false)
	ctx := context.Background()
	const ttl = 1500 * time.Millisecond
	var logs bytes.Buffer
	var mu sync.Mutex
	l := newLease(s.mongo, ttl, slog.New(slog.NewTextHandler(&syncBuffer{b: &logs, mu: &mu}, nil)))
	var slowed atomic.Int32
	// Renewals 1, 3 and 5 take 900 ms: longer than the 500 ms interval
	// (ttl/3) and than the per-renewal timeout the lease once had, shorter
	// than the ttl.
	slowExtend(l, 3, 900*time.Millisecond, &slowed)
	step, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if err := l.acquire(ctx, time.Minute, nil, func(err error) { cancel(err) }); err != nil {
		t.Fatal(err)
	}
	// The step: real writes for 3 × ttl.
	coll := s.mongo.Collection("step_writes")
	written := 0
	for end := time.Now().Add(3 * ttl); time.Now().Before(end); {
		if _, err := coll.InsertOne(step, bson.M{"n": written}); err != nil {
			t.Fatalf("the step was cancelled after %d writes: %v (cause %v)\n%s", written, err, context.Cause(step), logs.String())
		}
		written++
		time.Sleep(20 * time.Millisecond)
	}
	if slowed.Load() < 6 {
		t.Fatalf("only %d renewals in 3 × ttl: the slow path was not exercised", slowed.Load())
	}
	var doc struct {
		Owner   string    `bson:"owner"`
		Expires time.Time `bson:"expires_at"`
	}
	if err := s.mongo.Collection(LeaseCollection).FindOne(ctx, bson.M{"_id": leaseID}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Owner != l.owner || !doc.Expires.After(time.Now()) {
		t.Errorf("lease after slow renewals: owner %q (want %q), expires %s (now %s)", doc.Owner, l.owner, doc.Expires, time.Now())
	}
	if err := l.release(ctx); err != nil {
		t.Fatal(err)
	}
	if cause := context.Cause(step); cause != nil {
		t.Errorf("step cancelled: %v", cause)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "upgrade lease renewal slow") {
		t.Errorf("a slow renewal was not logged:\n%s", logs.String())
	}
	t.Logf("%d step writes, %d renewals (1, 3 and 5 slowed to 900 ms), lease kept", written, slowed.Load())
}

// TestLeaseLostWhenExpiredOrTakenOver: a lease is reported lost only when no
// renewal got through before it expired, or another owner holds it.
func TestLeaseLostWhenExpiredOrTakenOver(t *testing.T) {
	t.Parallel()
	s := newServers(t, false, false)
	ctx := context.Background()
	const ttl = 1200 * time.Millisecond

	t.Run("expired", func(t *testing.T) {
		l := newLease(s.mongo, ttl, slog.New(slog.DiscardHandler))
		l.extend = func(ctx context.Context, _ time.Time) (*mongo.UpdateResult, error) {
			<-ctx.Done() // a database that never answers
			return nil, ctx.Err()
		}
		lost := make(chan error, 1)
		start := time.Now()
		if err := l.acquire(ctx, time.Minute, nil, func(err error) { lost <- err }); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = l.release(ctx) }()
		select {
		case err := <-lost:
			took := time.Since(start)
			if took < ttl-100*time.Millisecond {
				t.Errorf("lost after %s, before the lease (ttl %s) expired", took, ttl)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("lost: %v, want the renewal's deadline (the lease's expiry)", err)
			}
		case <-time.After(ttl + 2*time.Second):
			t.Fatal("a lease no renewal could extend was never reported lost")
		}
	})

	t.Run("taken over", func(t *testing.T) {
		l := newLease(s.mongo, ttl, slog.New(slog.DiscardHandler))
		lost := make(chan error, 1)
		if err := l.acquire(ctx, time.Minute, nil, func(err error) { lost <- err }); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = l.release(ctx) }()
		if _, err := s.mongo.Collection(LeaseCollection).UpdateOne(ctx, bson.M{"_id": leaseID},
			bson.M{"$set": bson.M{"owner": "other-host/1/x"}}); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-lost:
			if !strings.Contains(err.Error(), "taken over") {
				t.Errorf("lost: %v, want taken over", err)
			}
		case <-time.After(ttl):
			t.Fatal("a lease another owner took was not reported lost")
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the renewal goroutine's logging.
type syncBuffer struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
