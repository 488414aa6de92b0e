package upgrade

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// ErrLocked is returned when another upgrade holds the host lock or the
// cluster lease and did not finish within the lock timeout.
var ErrLocked = errors.New("another upgrade is running")

// hostLock takes <stateDir>/upgrade/lock (flock), waiting up to timeout.
func hostLock(ctx context.Context, stateDir string, timeout time.Duration) (*flock.Flock, error) {
	dir := upgradeDir(stateDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	p := filepath.Join(dir, "lock")
	fl := flock.New(p)
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok, err := fl.TryLockContext(lctx, 200*time.Millisecond)
	if ok {
		return fl, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	return nil, fmt.Errorf("%w on this host (lock %s held for more than %s)", ErrLocked, p, timeout)
}

// LeaseCollection holds the cluster-wide upgrade lease, one document.
const LeaseCollection = "openim_supervisor_lease"

const leaseID = "upgrade"

// lease is a Mongo document {_id: "upgrade", owner, host, pid, expires_at}
// that one upgrade at a time holds across hosts sharing the database. It is
// renewed while held; an owner that dies stops renewing and the lease
// expires after ttl, so a waiting host takes over.
type lease struct {
	coll  *mongo.Collection
	owner string
	ttl   time.Duration
	stop  context.CancelFunc
	done  chan struct{}
}

func newOwner() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}

// acquireLease waits up to timeout for the lease, then keeps renewing it
// until release. If a renewal finds the lease lost, lost is called.
func acquireLease(ctx context.Context, db *mongo.Database, ttl, timeout time.Duration, waiting func(holder string), lost func(error)) (*lease, error) {
	l := &lease{coll: db.Collection(LeaseCollection), owner: newOwner(), ttl: ttl}
	deadline := time.Now().Add(timeout)
	told := false
	retry := time.NewTicker(ttl / 4)
	defer retry.Stop()
	for {
		holder, err := l.try(ctx)
		if err != nil {
			return nil, err
		}
		if holder == "" {
			break
		}
		if !told && waiting != nil {
			waiting(holder)
			told = true
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w on another host (Mongo lease %s held by %s for more than %s)", ErrLocked, LeaseCollection, holder, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-retry.C:
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = cancel
	l.done = make(chan struct{})
	go l.renew(rctx, lost)
	return l, nil
}

// try takes the lease if it is free, expired or ours; it returns the current
// holder when another owner holds it.
func (l *lease) try(ctx context.Context) (string, error) {
	now := time.Now().UTC()
	filter := bson.M{"_id": leaseID, "$or": bson.A{
		bson.M{"owner": l.owner},
		bson.M{"expires_at": bson.M{"$lt": now}},
	}}
	h, _ := os.Hostname()
	update := bson.M{"$set": bson.M{"owner": l.owner, "host": h, "pid": os.Getpid(),
		"acquired_at": now, "expires_at": now.Add(l.ttl)}}
	_, err := l.coll.UpdateOne(ctx, filter, update, options.Update().SetUpsert(true))
	if err == nil {
		return "", nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return "", fmt.Errorf("take upgrade lease: %w", err)
	}
	var cur struct {
		Owner string `bson:"owner"`
		Host  string `bson:"host"`
		PID   int    `bson:"pid"`
	}
	if err := l.coll.FindOne(ctx, bson.M{"_id": leaseID}).Decode(&cur); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return "(released)", nil
		}
		return "", fmt.Errorf("read upgrade lease: %w", err)
	}
	// A holder on this host whose process is gone (killed while running)
	// cannot renew: take the lease over now instead of waiting for it to
	// expire. The caller holds the host lock, so no live upgrade using the
	// same state dir can be the holder.
	if cur.Host == h && cur.PID > 0 && cur.PID != os.Getpid() && !processAlive(cur.PID) {
		res, err := l.coll.UpdateOne(ctx, bson.M{"_id": leaseID, "owner": cur.Owner}, update)
		if err != nil {
			return "", fmt.Errorf("take over stale upgrade lease: %w", err)
		}
		if res.MatchedCount == 1 {
			return "", nil
		}
	}
	if cur.Owner == "" {
		cur.Owner = "(unknown)"
	}
	return cur.Owner, nil
}

func (l *lease) renew(ctx context.Context, lost func(error)) {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, l.ttl/3)
		res, err := l.coll.UpdateOne(cctx, bson.M{"_id": leaseID, "owner": l.owner},
			bson.M{"$set": bson.M{"expires_at": time.Now().UTC().Add(l.ttl)}})
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil && res.MatchedCount == 0 {
			err = errors.New("the upgrade lease was taken over by another host (renewal too late)")
		}
		if err != nil && lost != nil {
			lost(fmt.Errorf("renew upgrade lease: %w", err))
			return
		}
	}
}

// release stops renewing and deletes the lease if still ours.
func (l *lease) release(ctx context.Context) error {
	l.stop()
	<-l.done
	_, err := l.coll.DeleteOne(ctx, bson.M{"_id": leaseID, "owner": l.owner})
	if err != nil {
		return fmt.Errorf("release upgrade lease: %w", err)
	}
	return nil
}
