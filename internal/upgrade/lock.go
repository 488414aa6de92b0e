package upgrade

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
	log   *slog.Logger
	// extend sets expires_at on the lease if this owner still holds it
	// (newLease: an UpdateOne on coll; tests slow it down).
	extend func(ctx context.Context, expiresAt time.Time) (*mongo.UpdateResult, error)
	stop   context.CancelFunc
	done   chan struct{}
}

func newOwner() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}

// newLease returns the lease of db for a new owner (not yet acquired).
func newLease(db *mongo.Database, ttl time.Duration, log *slog.Logger) *lease {
	l := &lease{coll: db.Collection(LeaseCollection), owner: newOwner(), ttl: ttl, log: log}
	l.extend = func(ctx context.Context, expiresAt time.Time) (*mongo.UpdateResult, error) {
		return l.coll.UpdateOne(ctx, bson.M{"_id": leaseID, "owner": l.owner},
			bson.M{"$set": bson.M{"expires_at": expiresAt}})
	}
	return l
}

// acquire waits up to timeout for the lease, then keeps renewing it until
// release. If a renewal finds the lease lost, lost is called.
func (l *lease) acquire(ctx context.Context, timeout time.Duration, waiting func(holder string), lost func(error)) error {
	ttl := l.ttl
	deadline := time.Now().Add(timeout)
	told := false
	retry := time.NewTicker(ttl / 4)
	defer retry.Stop()
	for {
		holder, err := l.try(ctx)
		if err != nil {
			return err
		}
		if holder == "" {
			break
		}
		if !told && waiting != nil {
			waiting(holder)
			told = true
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w on another host (Mongo lease %s held by %s for more than %s)", ErrLocked, LeaseCollection, holder, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-retry.C:
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = cancel
	l.done = make(chan struct{})
	go l.renew(rctx, lost)
	return nil
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

// renew extends the lease every ttl/3. A slow or failed renewal is retried
// while the lease is still ours by its own clock (the last successful
// renewal plus ttl); only a lease that is taken over, or that expired
// without a renewal getting through, is reported lost. A database that is
// busy with the step's own writes (FerretDB on SQLite has one writer) must
// not cancel the step it is busy with.
func (l *lease) renew(ctx context.Context, lost func(error)) {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	valid := time.Now().Add(l.ttl) // the lease was written at acquire time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sent := time.Now()
		cctx, cancel := context.WithDeadline(ctx, valid)
		res, err := l.extend(cctx, sent.UTC().Add(l.ttl))
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil && res.MatchedCount == 0:
			err = errors.New("the upgrade lease was taken over by another host (renewal too late)")
		case err == nil:
			valid = sent.Add(l.ttl)
			if took := time.Since(sent); took > l.ttl/3 {
				l.log.Warn("upgrade lease renewal slow (the database is busy); the lease is kept",
					"took", took.Round(time.Millisecond), "ttl", l.ttl)
			}
			continue
		case time.Now().Before(valid):
			l.log.Warn("upgrade lease renewal failed; retrying while the lease is still ours",
				"took", time.Since(sent).Round(time.Millisecond), "valid-for", time.Until(valid).Round(time.Millisecond), "err", err)
			continue // still ours: try again at the next tick
		}
		if lost != nil {
			lost(fmt.Errorf("renew upgrade lease: %w", err))
		}
		return
	}
}

// release stops renewing and deletes the lease if still ours.
func (l *lease) release(ctx context.Context) error {
	l.stop()
	<-l.done
	// Bounded: a lease that cannot be deleted expires by itself after ttl,
	// so waiting longer than that for the database gains nothing.
	ctx, cancel := context.WithTimeout(ctx, l.ttl)
	defer cancel()
	_, err := l.coll.DeleteOne(ctx, bson.M{"_id": leaseID, "owner": l.owner})
	if err != nil {
		return fmt.Errorf("release upgrade lease: %w", err)
	}
	return nil
}
