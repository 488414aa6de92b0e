package upgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	version "github.com/hashicorp/go-version"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/openim-supervisor/openim-supervisor/migrations"
)

// Check is the version gate `run` calls before it starts anything, so that no
// OpenIM process (msgtransfer above all) ever runs on data that still needs a
// step. It refuses (RefusedError) data newer than the binary, and returns
// ErrPending, naming `openim-supervisor upgrade`, while steps up to the
// binary's version are pending.
//
// With a state record it reads nothing else. Without one (installed by hand,
// or the record lost) it looks at the data itself, waiting up to GateWait
// for MongoDB and Redis, with the connections OpenIM's own config and the
// env file give (IMENV_ overrides included):
//   - OpenIM 3.7 message seqs still in Redis (MAX_SEQ:, MIN_SEQ:,
//     HAS_READ_SEQ:, CON_USER_MIN_SEQ:) with no seq marker in MongoDB:
//     pending (3.8.0);
//   - messages in MongoDB but no users and no 3.5 marker: OpenIM 3.4 data
//     (its users are still in MySQL): pending (3.5.0);
//   - OpenIM's markers: the version they say, then the usual pending check;
//   - otherwise (a fresh install, or data OpenIM 3.8 already runs on): the
//     binary's version is recorded, so later starts read only the record.
//
// When OpenIM's config names no MongoDB (no mongodb.yml), there is nothing
// OpenIM could start on and the gate passes. When the databases do not
// answer within GateWait it returns a plain error (not a refusal: a restart
// of the service may find them up).
func Check(ctx context.Context, o Options) error {
	o.PlanOnly = true // the gate never runs steps, takes no lock, writes no log
	u, err := New(o)
	if err != nil {
		return err
	}
	defer u.Close()
	st, ok, err := LoadState(u.o.StateDir)
	if err != nil {
		return err
	}
	if ok && st.DataVersion != "" {
		return u.checkRecorded(st)
	}
	if !u.conns.mongoConfigured() {
		return nil
	}
	found, err := u.probe(ctx)
	if err != nil {
		return err
	}
	if found.pending != "" {
		return fmt.Errorf("%w: %s; run `openim-supervisor upgrade` first (it migrates the data to OpenIM %s)",
			ErrPending, found.pending, u.binary)
	}
	if found.markers != nil {
		if p := pending(u.steps, found.markers, u.binary, nil); len(p) > 0 {
			return fmt.Errorf("%w (data at OpenIM %s by OpenIM's markers in MongoDB, binary %s: %s); run `openim-supervisor upgrade` first",
				ErrPending, found.markers, u.binary, stepIDs(p))
		}
	}
	// Nothing pending: record the version so later starts need no probe.
	st.DataVersion = u.binary.String()
	st.History = append(st.History, Record{Step: "version-gate", Version: u.binary.String(), Start: time.Now().UTC(),
		End: time.Now().UTC(), Result: "recorded", Error: found.why})
	return st.Save(u.o.StateDir)
}

func (u *Upgrader) checkRecorded(st *State) error {
	data, err := ParseVersion(st.DataVersion)
	if err != nil {
		return fmt.Errorf("%s: data_version: %w", StatePath(u.o.StateDir), err)
	}
	if data.GreaterThan(u.binary) {
		return &RefusedError{Msg: fmt.Sprintf("the data is at OpenIM %s (%s) but this binary ships %s: a downgrade; "+
			"reinstall the newer package or restore the pre-upgrade backup", data, StatePath(u.o.StateDir), u.binary)}
	}
	if p := pending(u.steps, data, u.binary, st); len(p) > 0 {
		return fmt.Errorf("%w (data at %s, binary %s: %s); run `openim-supervisor upgrade` first", ErrPending, data, u.binary, stepIDs(p))
	}
	return nil
}

func stepIDs(steps []migrations.Step) string {
	ids := make([]string, len(steps))
	for i, s := range steps {
		ids[i] = s.ID()
	}
	return "[" + strings.Join(ids, " ") + "]"
}

// probeResult is what the gate found in the databases.
type probeResult struct {
	pending string           // why steps are pending ("" none found)
	markers *version.Version // version by OpenIM's markers, nil none
	why     string           // what was found, for the record
}

// gateRetry is how often the gate tries the databases again while it
// cannot read them: a database that comes up late delays the start by at
// most this much. A refused connection costs next to nothing.
const gateRetry = 250 * time.Millisecond

// probe looks at the data, retrying connection failures until GateWait.
func (u *Upgrader) probe(ctx context.Context) (probeResult, error) {
	if u.o.OnGateWait != nil {
		u.o.OnGateWait(u.o.GateWait)
	}
	pctx, cancel := context.WithTimeout(ctx, u.o.GateWait)
	defer cancel()
	var last error
	told := false
	for {
		c := &conns{o: &u.o, once: true}
		r, err := probeOnce(pctx, c)
		c.close()
		if err == nil {
			return r, nil
		}
		last = err
		if !told {
			u.log.Info("version gate: waiting for the databases to read the data version", "err", err, "up_to", u.o.GateWait)
			told = true
		}
		select {
		case <-pctx.Done():
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			return r, fmt.Errorf("version gate: no state record in %s, and the data version cannot be read within %s: %w; "+
				"start MongoDB and Redis, or record the version with `openim-supervisor upgrade`", u.o.StateDir, u.o.GateWait, last)
		case <-time.After(gateRetry):
		}
	}
}

func probeOnce(ctx context.Context, c *conns) (probeResult, error) {
	var r probeResult
	db, err := c.mongo(ctx)
	if err != nil {
		return r, err
	}
	v38, err := migrations.ReadMarker(ctx, db, migrations.Marker38Collection, migrations.Marker38Key)
	if err != nil {
		return r, err
	}
	if v38 >= migrations.Marker38Value {
		r.markers, r.why = mustVersion("3.8.0"), "MongoDB has OpenIM's seq marker (data_version seq=38)"
		return r, nil
	}
	v35, err := migrations.ReadMarker(ctx, db, migrations.Marker35Collection, migrations.Marker35Key)
	if err != nil {
		return r, err
	}
	// OpenIM 3.4: messages in MongoDB, users still in MySQL.
	if v35 < migrations.Marker35Value {
		users, err := db.Collection("user").CountDocuments(ctx, bson.D{}, nil)
		if err != nil {
			return r, fmt.Errorf("count MongoDB users: %w", err)
		}
		msgs, err := db.Collection("msg").CountDocuments(ctx, bson.D{}, nil)
		if err != nil {
			return r, fmt.Errorf("count MongoDB messages: %w", err)
		}
		if users == 0 && msgs > 0 {
			r.pending = fmt.Sprintf("MongoDB holds %d message documents but no users and no 3.5 marker: this looks like "+
				"OpenIM 3.4 data, whose users and groups are still in MySQL (pass --from 3.4.x and --old-config)", msgs)
			return r, nil
		}
	} else {
		r.markers = mustVersion("3.5.0")
	}
	if c.redisConfigured() {
		rdb, err := c.redis(ctx)
		if err != nil {
			return r, err
		}
		for _, prefix := range migrations.SeqPrefixes() {
			key, err := firstKey(ctx, rdb, prefix)
			if err != nil {
				return r, err
			}
			if key != "" {
				r.pending = fmt.Sprintf("Redis holds OpenIM 3.7 message sequence keys (%s, ...) and MongoDB has no seq "+
					"marker: the 3.8 seq move has not run, and OpenIM 3.8's msgtransfer would start every conversation's seq from 0", key)
				return r, nil
			}
		}
	}
	if r.why == "" {
		r.why = "no OpenIM 3.7 seqs in Redis and no OpenIM 3.4 data in MongoDB"
	}
	return r, nil
}

// errNotConfigured-based checks: is a component named by OpenIM's config?
func (c *conns) mongoConfigured() bool {
	if c.o.MongoURI != "" {
		return true
	}
	var mc MongoConf
	_, err := readComponent(c.o.OpenIMConfigDir, "mongodb", c.o.Env, &mc)
	return !errors.Is(err, errNotConfigured)
}

func (c *conns) redisConfigured() bool {
	if c.o.RedisAddr != "" {
		return true
	}
	var rc RedisConf
	_, err := readComponent(c.o.OpenIMConfigDir, "redis", c.o.Env, &rc)
	return !errors.Is(err, errNotConfigured)
}

// firstKey returns a key with the prefix, "" when there is none (SCAN may
// need several rounds before a match shows).
func firstKey(ctx context.Context, rdb redis.UniversalClient, prefix string) (string, error) {
	var cur uint64
	for {
		keys, next, err := rdb.Scan(ctx, cur, prefix+"*", 1000).Result()
		if err != nil {
			return "", fmt.Errorf("redis SCAN %s*: %w", prefix, err)
		}
		if len(keys) > 0 {
			return keys[0], nil
		}
		if next == 0 {
			return "", nil
		}
		cur = next
	}
}
