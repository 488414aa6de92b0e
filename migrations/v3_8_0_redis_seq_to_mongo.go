package migrations

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/openim-supervisor/openim-supervisor/migrations/openimmodel"
)

// seqPrefix is one of the four Redis key families OpenIM 3.7 kept seqs in.
type seqPrefix struct {
	prefix string // e.g. "MAX_SEQ:"
	coll   string // "seq" or "seq_user"
	field  string // field written with $max
	// parse splits the key suffix into (userID, conversationID); userID is
	// empty for the per-conversation collection.
	parse func(rest string) (user, conv string, ok bool)
}

// SeqPrefixes are the Redis key prefixes OpenIM 3.7 kept message seqs under.
func SeqPrefixes() []string {
	var out []string
	for _, p := range seqPrefixes() {
		out = append(out, p.prefix)
	}
	return out
}

func seqPrefixes() []seqPrefix {
	conv := func(rest string) (string, string, bool) { return "", rest, rest != "" }
	return []seqPrefix{
		{prefix: "MAX_SEQ:", coll: "seq", field: "max_seq", parse: conv},
		{prefix: "MIN_SEQ:", coll: "seq", field: "min_seq", parse: conv},
		{prefix: "HAS_READ_SEQ:", coll: "seq_user", field: "read_seq", parse: func(rest string) (string, string, bool) {
			// HAS_READ_SEQ:<userID>:<conversationID>
			user, conv, ok := strings.Cut(rest, ":")
			return user, conv, ok && user != "" && conv != ""
		}},
		{prefix: "CON_USER_MIN_SEQ:", coll: "seq_user", field: "min_seq", parse: func(rest string) (string, string, bool) {
			// CON_USER_MIN_SEQ:<conversationID>u:<userID>
			i := strings.LastIndex(rest, "u:")
			if i <= 0 || i+2 >= len(rest) {
				return "", "", false
			}
			return rest[i+2:], rest[:i], true
		}},
	}
}

// seqFields are the fields of OpenIM 3.8's model of each collection, in
// order, after the natural key.
func seqFields(coll string) []string {
	if coll == "seq" {
		return []string{"max_seq", "min_seq"}
	}
	return []string{"min_seq", "max_seq", "read_seq"}
}

// v380RedisSeqToMongo copies OpenIM 3.7's message sequence numbers from Redis
// into Mongo's seq and seq_user (what OpenIM's tools/seq does), writing a
// value only when Mongo holds a lower one, so re-runs and documents OpenIM
// wrote itself are safe. Redis keys are kept unless --expire-source.
//
// OpenIM 3.8 indexes seq and seq_user without uniqueness, so duplicates are
// kept out by the write itself: when a collection is empty at the step's
// first start (the usual case: OpenIM 3.8 has not run), documents are
// inserted under ObjectIDs derived from their natural key (a replay or the
// second key family of one document hits the same _id and becomes a $max);
// when OpenIM already wrote documents there, every key is an upsert by
// natural key (slower, but never a second document for one conversation).
func v380RedisSeqToMongo() Step {
	return Step{
		Version:     "3.8.0",
		Name:        "redis-seq-to-mongo",
		Kind:        KindData,
		Description: "copy MAX_SEQ/MIN_SEQ/HAS_READ_SEQ/CON_USER_MIN_SEQ from Redis into seq and seq_user (only where Mongo is lower)",
		Needs:       Mongo | Redis,
		Collections: []string{"seq", "seq_user"},
		Writes:      true,
		Applied:     markerApplied(Marker38Collection, Marker38Key, Marker38Value),
		Mark:        markerWriter(Marker38Collection, Marker38Key, Marker38Value),
		Estimate: func(ctx context.Context, env *Env) (string, error) {
			rdb, err := env.Redis(ctx)
			if err != nil {
				return "", err
			}
			n, err := rdb.DBSize(ctx).Result()
			if err != nil {
				return "", fmt.Errorf("redis DBSIZE: %w", err)
			}
			return fmt.Sprintf("at most %d Redis keys scanned (DBSIZE)", n), nil
		},
		Run:    runSeq,
		Verify: verifySeq,
	}
}

// seqMode is saved at the step's first start: which collections already
// held documents (then every write is an upsert by natural key).
type seqMode struct {
	ID      string          `bson:"_id"`
	Foreign map[string]bool `bson:"foreign"`
}

const seqModeID = "3.8.0/seq-mode"

func loadSeqMode(ctx context.Context, db *mongo.Database) (*seqMode, error) {
	cp := db.Collection(CheckpointCollection)
	var m seqMode
	err := cp.FindOne(ctx, bson.M{"_id": seqModeID}).Decode(&m)
	if err == nil {
		return &m, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	m = seqMode{ID: seqModeID, Foreign: map[string]bool{}}
	for _, c := range []string{"seq", "seq_user"} {
		err := db.Collection(c).FindOne(ctx, bson.D{}).Err()
		switch {
		case err == nil:
			m.Foreign[c] = true
		case !errors.Is(err, mongo.ErrNoDocuments):
			return nil, fmt.Errorf("read %s: %w", c, err)
		}
	}
	if _, err := cp.InsertOne(ctx, m); err != nil {
		return nil, fmt.Errorf("save checkpoint: %w", err)
	}
	return &m, nil
}

// seqKey is one parsed Redis key.
type seqKey struct {
	user, conv string
	val        int64
}

func (k seqKey) id(coll string) primitive.ObjectID {
	if coll == "seq" {
		return objectID(zeroTime, coll, identity(nil, []byte(k.conv)))
	}
	return objectID(zeroTime, coll, identity(nil, []byte(k.user), []byte(k.conv)))
}

func (k seqKey) filter(coll string) bson.D {
	if coll == "seq" {
		return bson.D{{Key: "conversation_id", Value: k.conv}}
	}
	return bson.D{{Key: "user_id", Value: k.user}, {Key: "conversation_id", Value: k.conv}}
}

// doc is the document OpenIM 3.8 writes for the key: the natural key, then
// every seq field (0 but the key's own).
func (k seqKey) doc(p seqPrefix) bson.D {
	d := append(bson.D{{Key: "_id", Value: k.id(p.coll)}}, k.filter(p.coll)...)
	for _, f := range seqFields(p.coll) {
		v := int64(0)
		if f == p.field {
			v = k.val
		}
		d = append(d, bson.E{Key: f, Value: v})
	}
	return d
}

func runSeq(ctx context.Context, env *Env) (Counts, error) {
	rdb, err := env.Redis(ctx)
	if err != nil {
		return nil, err
	}
	db, err := env.Mongo(ctx)
	if err != nil {
		return nil, err
	}
	mode, err := loadSeqMode(ctx, db)
	if err != nil {
		return nil, err
	}
	report := &seqReport{path: filepath.Join(env.ReportDir, "conflicts-3.8.0-seq.jsonl")}
	defer report.close()
	var out Counts
	for _, p := range seqPrefixes() {
		c := TableCount{Table: p.prefix + "*", Target: p.coll + "." + p.field}
		coll := db.Collection(p.coll)
		foreign := mode.Foreign[p.coll]
		err := scanPrefix(ctx, rdb, p.prefix, env.BatchSize, func(keys []string, vals []int64) error {
			c.Source += int64(len(keys))
			parsed := make([]seqKey, 0, len(keys))
			for i, k := range keys {
				user, conv, ok := p.parse(strings.TrimPrefix(k, p.prefix))
				if !ok || vals[i] < 0 {
					// OpenIM's tools/seq stops on such a key; we keep going
					// and report it, so no key is skipped without a trace.
					c.Conflicts++
					if err := report.add(k, vals[i], "not a "+p.prefix+" key OpenIM 3.8 can place (bad form or negative value)"); err != nil {
						return err
					}
					continue
				}
				parsed = append(parsed, seqKey{user: user, conv: conv, val: vals[i]})
			}
			if len(parsed) == 0 {
				return nil
			}
			var w int64
			var err error
			if foreign {
				w, err = upsertSeq(ctx, coll, p, parsed)
			} else {
				w, err = insertSeq(ctx, coll, p, parsed)
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", p.coll, err)
			}
			c.Written += w
			c.Skipped += int64(len(parsed)) - w
			if env.ExpireSource {
				pipe := rdb.Pipeline()
				for _, k := range keys {
					pipe.Expire(ctx, k, env.ExpireAfter)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					return fmt.Errorf("expire copied keys: %w", err)
				}
			}
			env.progress(p.prefix, c.Source, -1)
			env.pause()
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("%s*: %w", p.prefix, err)
		}
		env.Log.Info("seq: prefix done", "prefix", p.prefix, "keys", c.Source, "written", c.Written, "not-lower", c.Skipped,
			"unplaceable", c.Conflicts, "upserts", foreign)
		out = append(out, c)
	}
	return out, nil
}

// insertSeq inserts new documents (unordered) and raises ($max) the ones
// that exist under the same ObjectID: written by a replayed batch, or by the
// other key family of the same document.
func insertSeq(ctx context.Context, coll *mongo.Collection, p seqPrefix, keys []seqKey) (int64, error) {
	docs := make([]any, len(keys))
	for i, k := range keys {
		docs[i] = k.doc(p)
	}
	written, dups, err := insertNew(ctx, coll, docs)
	if err != nil {
		return written, err
	}
	if len(dups) == 0 {
		return written, nil
	}
	models := make([]mongo.WriteModel, len(dups))
	for j, i := range dups {
		models[j] = mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: keys[i].id(p.coll)}}).
			SetUpdate(bson.D{{Key: "$max", Value: bson.D{{Key: p.field, Value: keys[i].val}}}})
	}
	r, err := bulkUpdate(ctx, coll, models)
	if err != nil {
		return written + r.ModifiedCount, err
	}
	return written + r.ModifiedCount, nil
}

// upsertSeq raises each key's field by natural key, creating the document
// when there is none (the collection already held OpenIM's documents).
func upsertSeq(ctx context.Context, coll *mongo.Collection, p seqPrefix, keys []seqKey) (int64, error) {
	models := make([]mongo.WriteModel, len(keys))
	for i, k := range keys {
		onInsert := bson.D{{Key: "_id", Value: k.id(p.coll)}}
		for _, f := range seqFields(p.coll) {
			if f != p.field {
				onInsert = append(onInsert, bson.E{Key: f, Value: int64(0)})
			}
		}
		models[i] = mongo.NewUpdateOneModel().SetFilter(k.filter(p.coll)).SetUpsert(true).SetUpdate(bson.D{
			{Key: "$max", Value: bson.D{{Key: p.field, Value: k.val}}},
			{Key: "$setOnInsert", Value: onInsert},
		})
	}
	r, err := bulkUpdate(ctx, coll, models)
	return r.ModifiedCount + r.UpsertedCount, err
}

// seqReport writes the keys that could not be placed.
type seqReport struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

func (r *seqReport) add(key string, val int64, reason string) error {
	if r.f == nil {
		if err := os.MkdirAll(filepath.Dir(r.path), 0o750); err != nil {
			return err
		}
		f, err := os.OpenFile(r.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return fmt.Errorf("conflict report: %w", err)
		}
		r.f, r.w = f, bufio.NewWriter(f)
	}
	b, _ := json.Marshal(map[string]any{"key": key, "value": val, "reason": reason})
	_, err := r.w.Write(append(b, '\n'))
	return err
}

func (r *seqReport) close() {
	if r.f != nil {
		_ = r.w.Flush()
		_ = r.f.Close()
	}
}

// scanPrefix SCANs prefix* and calls fn with batches of keys and their
// integer values. Keys that vanish between SCAN and GET are dropped.
func scanPrefix(ctx context.Context, rdb redis.UniversalClient, prefix string, batch int,
	fn func(keys []string, vals []int64) error) error {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", int64(batch)).Result()
		if err != nil {
			return fmt.Errorf("SCAN: %w", err)
		}
		if len(keys) > 0 {
			raw, err := rdb.MGet(ctx, keys...).Result()
			if err != nil {
				return fmt.Errorf("MGET: %w", err)
			}
			ks := make([]string, 0, len(keys))
			vs := make([]int64, 0, len(keys))
			for i, r := range raw {
				s, ok := r.(string)
				if !ok {
					continue // deleted meanwhile
				}
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("key %s: value %q is not an integer", keys[i], s)
				}
				ks = append(ks, keys[i])
				vs = append(vs, n)
			}
			if len(ks) > 0 {
				if err := fn(ks, vs); err != nil {
					return err
				}
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// verifySeq proves the step's output:
//   - every document of seq and seq_user decodes into OpenIM 3.8's model
//     (SeqConversation, SeqUser) with every field an int64;
//   - when the collection was empty at the first start, Mongo's values are
//     exactly Redis's: a checksum over (natural key, field, value) of every
//     non-zero value, from the Redis keys and from the documents, must
//     match (then the keys that differ are looked up one by one and named);
//   - when OpenIM had written documents there, every key is looked up by its
//     natural key and Mongo must hold at least its value.
func verifySeq(ctx context.Context, env *Env, ran Counts) (Counts, error) {
	rdb, err := env.Redis(ctx)
	if err != nil {
		return ran, err
	}
	db, err := env.Mongo(ctx)
	if err != nil {
		return ran, err
	}
	mode, err := loadSeqMode(ctx, db)
	if err != nil {
		return ran, err
	}
	var bad []string
	for _, coll := range []string{"seq", "seq_user"} {
		docs, sum, undecodable, err := seqTargetSums(ctx, db.Collection(coll))
		if err != nil {
			return ran, err
		}
		for i, p := range seqPrefixes() {
			if p.coll == coll && i < len(ran) {
				ran[i].InTarget = docs
			}
		}
		if len(undecodable) > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d documents OpenIM 3.8 cannot read as its model: %s", coll, len(undecodable), firstN(undecodable, 5)))
			continue
		}
		srcSum := newSums()
		var lower []string
		for _, p := range seqPrefixes() {
			if p.coll != coll {
				continue
			}
			err := scanPrefix(ctx, rdb, p.prefix, env.BatchSize, func(ks []string, vs []int64) error {
				var keys []seqKey
				for j, k := range ks {
					user, conv, ok := p.parse(strings.TrimPrefix(k, p.prefix))
					if !ok || vs[j] < 0 {
						continue // reported as a conflict by the run
					}
					sk := seqKey{user: user, conv: conv, val: vs[j]}
					if vs[j] != 0 {
						srcSum.add(hash60(seqText(coll, sk.user, sk.conv, p.field, vs[j])))
					}
					keys = append(keys, sk)
				}
				if mode.Foreign[coll] {
					l, err := seqLower(ctx, db.Collection(coll), p, keys, false)
					lower = append(lower, l...)
					return err
				}
				return nil
			})
			if err != nil {
				return ran, fmt.Errorf("verify %s*: %w", p.prefix, err)
			}
		}
		if len(lower) > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d keys not reflected in Mongo: %s", coll, len(lower), firstN(lower, 10)))
			continue
		}
		if mode.Foreign[coll] || srcSum.equal(sum) {
			continue
		}
		// Exact copy expected but the sums differ: name the keys.
		for _, p := range seqPrefixes() {
			if p.coll != coll {
				continue
			}
			err := scanPrefix(ctx, rdb, p.prefix, env.BatchSize, func(ks []string, vs []int64) error {
				var keys []seqKey
				for j, k := range ks {
					if user, conv, ok := p.parse(strings.TrimPrefix(k, p.prefix)); ok && vs[j] >= 0 {
						keys = append(keys, seqKey{user: user, conv: conv, val: vs[j]})
					}
				}
				l, err := seqLower(ctx, db.Collection(coll), p, keys, true)
				lower = append(lower, l...)
				return err
			})
			if err != nil {
				return ran, fmt.Errorf("verify %s*: %w", p.prefix, err)
			}
		}
		if len(lower) == 0 {
			lower = append(lower, fmt.Sprintf("checksum over %d Redis values != over %d documents, but every key matches: documents with no Redis key", srcSum.n, sum.n))
		}
		bad = append(bad, fmt.Sprintf("%s: %d keys differ: %s", coll, len(lower), firstN(lower, 10)))
	}
	if len(bad) > 0 {
		return ran, errors.New(strings.Join(bad, "; "))
	}
	return ran, nil
}

func seqText(coll, user, conv, field string, v int64) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%d", coll, user, conv, field, v)
}

// seqTargetSums reads a seq collection once: the model check of every
// document and the checksum of its non-zero values.
func seqTargetSums(ctx context.Context, coll *mongo.Collection) (int64, sums, []string, error) {
	s := newSums()
	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		return 0, s, nil, fmt.Errorf("read %s: %w", coll.Name(), err)
	}
	defer cur.Close(ctx)
	var n int64
	var bad []string
	for cur.Next(ctx) {
		n++
		if coll.Name() == "seq" {
			var m openimmodel.SeqConversation
			if err := openimmodel.Check(cur.Current, &m); err != nil {
				bad = append(bad, fmt.Sprintf("_id %s: %v", cur.Current.Lookup("_id"), err))
				continue
			}
			for f, v := range map[string]int64{"max_seq": m.MaxSeq, "min_seq": m.MinSeq} {
				if v != 0 {
					s.add(hash60(seqText("seq", "", m.ConversationID, f, v)))
				}
			}
			continue
		}
		var m openimmodel.SeqUser
		if err := openimmodel.Check(cur.Current, &m); err != nil {
			bad = append(bad, fmt.Sprintf("_id %s: %v", cur.Current.Lookup("_id"), err))
			continue
		}
		for f, v := range map[string]int64{"min_seq": m.MinSeq, "max_seq": m.MaxSeq, "read_seq": m.ReadSeq} {
			if v != 0 {
				s.add(hash60(seqText("seq_user", m.UserID, m.ConversationID, f, v)))
			}
		}
	}
	return n, s, bad, cur.Err()
}

// seqLower looks keys up one by one (by natural key) and returns those Mongo
// does not hold at least (exact: exactly) the value of.
func seqLower(ctx context.Context, coll *mongo.Collection, p seqPrefix, keys []seqKey, exact bool) ([]string, error) {
	var bad []string
	for _, k := range keys {
		name := p.prefix + k.conv
		if p.coll == "seq_user" {
			name = fmt.Sprintf("%s(user %s, conversation %s)", p.prefix, k.user, k.conv)
		}
		cur, err := coll.Find(ctx, k.filter(p.coll))
		if err != nil {
			return bad, fmt.Errorf("read %s: %w", coll.Name(), err)
		}
		var docs []bson.M
		if err := cur.All(ctx, &docs); err != nil {
			return bad, fmt.Errorf("read %s: %w", coll.Name(), err)
		}
		switch {
		case len(docs) == 0:
			bad = append(bad, name+": missing in "+coll.Name())
		case len(docs) > 1:
			bad = append(bad, fmt.Sprintf("%s: %d documents in %s", name, len(docs), coll.Name()))
		case exact && toInt64(docs[0][p.field]) != k.val:
			bad = append(bad, fmt.Sprintf("%s: %s.%s=%v, Redis %d", name, coll.Name(), p.field, docs[0][p.field], k.val))
		case toInt64(docs[0][p.field]) < k.val:
			bad = append(bad, fmt.Sprintf("%s: %s.%s=%v < %d", name, coll.Name(), p.field, docs[0][p.field], k.val))
		}
	}
	return bad, nil
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case float64:
		return int64(n)
	}
	return -1 << 63
}
