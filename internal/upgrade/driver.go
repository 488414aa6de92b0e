package upgrade

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofrs/flock"
	version "github.com/hashicorp/go-version"
	"go.mongodb.org/mongo-driver/mongo"
)

// driver is where the upgrade keeps what is applied (golang-migrate's
// database.Driver): Lock (a host flock, then a cluster lease in MongoDB when
// a step uses it), the version (our state record, loaded once under the host
// lock), and SetVersion with a dirty flag (setDirty before a step runs,
// State.markDone after it is verified and marked).
type driver struct {
	stateDir string
	wait     time.Duration // how long to wait for another upgrade
	ttl      time.Duration // lease TTL
	log      *slog.Logger

	st    *State
	fl    *flock.Flock
	lease *lease
}

// lockHost takes the host lock and loads the state record (once).
func (d *driver) lockHost(ctx context.Context) (*State, error) {
	fl, err := hostLock(ctx, d.stateDir, d.wait)
	if err != nil {
		return nil, err
	}
	st, _, err := LoadState(d.stateDir)
	if err != nil {
		_ = fl.Unlock()
		return nil, err
	}
	d.fl, d.st = fl, st
	return st, nil
}

// lockCluster takes the Mongo lease, waiting for another host's upgrade;
// lost is called if a renewal finds it taken over.
func (d *driver) lockCluster(ctx context.Context, db *mongo.Database, lost func(error)) error {
	l := newLease(db, d.ttl, d.log)
	err := l.acquire(ctx, d.wait,
		func(holder string) {
			d.log.Info("waiting for the upgrade lease held by another host", "holder", holder)
		},
		lost)
	if err != nil {
		return err
	}
	d.lease = l
	return nil
}

// unlock releases the lease and the host lock.
func (d *driver) unlock(ctx context.Context) {
	if d.lease != nil {
		if err := d.lease.release(ctx); err != nil {
			d.log.Warn("release the upgrade lease", "err", err)
		}
		d.lease = nil
	}
	if d.fl != nil {
		_ = d.fl.Unlock()
		d.fl = nil
	}
}

func (d *driver) save() error { return d.st.Save(d.stateDir) }

// setDirty records that step id is running (golang-migrate's
// SetVersion(v, dirty=true)); State.markDone clears it.
func (d *driver) setDirty(id string) error {
	d.st.Dirty = id
	return d.save()
}

// recordVersion raises the data version to `to` (nothing was pending).
func (d *driver) recordVersion(to, from *version.Version) error {
	st := d.st
	if st.DataVersion != "" {
		if cur, err := ParseVersion(st.DataVersion); err == nil && !cur.LessThan(to) {
			return nil
		}
	}
	if from != nil && from.GreaterThan(to) {
		return nil
	}
	st.DataVersion = to.String()
	st.Done, st.Dirty = nil, ""
	return d.save()
}
