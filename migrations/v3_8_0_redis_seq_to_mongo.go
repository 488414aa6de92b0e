package migrations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
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

// v380RedisSeqToMongo copies OpenIM 3.7's message sequence numbers from Redis
// into Mongo's seq and seq_user (what OpenIM's tools/seq does), writing a
// value only when Mongo holds a lower one, so re-runs and concurrent OpenIM
// writes are safe. Redis keys are kept unless --expire-source.
func v380RedisSeqToMongo() Step {
	return Step{
		Version:     "3.8.0",
		Name:        "redis-seq-to-mongo",
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

func runSeq(ctx context.Context, env *Env) (Counts, error) {
	rdb, err := env.Redis(ctx)
	if err != nil {
		return nil, err
	}
	db, err := env.Mongo(ctx)
	if err != nil {
		return nil, err
	}
	var out Counts
	for _, p := range seqPrefixes() {
		c := TableCount{Table: p.prefix + "*", Target: p.coll + "." + p.field}
		err := scanPrefix(ctx, rdb, p.prefix, env.batch(), func(keys []string, vals []int64) error {
			models := make([]seqModel, 0, len(keys))
			for i, k := range keys {
				user, conv, ok := p.parse(strings.TrimPrefix(k, p.prefix))
				if !ok {
					env.Log.Warn("seq: key not in the expected form, skipped", "key", k)
					c.Conflicts++
					continue
				}
				models = append(models, seqUpdate(p, user, conv, vals[i]))
			}
			c.Source += int64(len(keys))
			if len(models) == 0 {
				return nil
			}
			w, err := writeSeq(ctx, db.Collection(p.coll), models)
			if err != nil {
				return fmt.Errorf("write %s: %w", p.coll, err)
			}
			c.Written += w
			c.Skipped += int64(len(models)) - w
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
		env.Log.Info("seq: prefix done", "prefix", p.prefix, "keys", c.Source, "written", c.Written, "not-lower", c.Skipped)
		out = append(out, c)
	}
	for i := range out {
		n, err := db.Collection(seqPrefixes()[i].coll).CountDocuments(ctx, bson.D{})
		if err != nil {
			return out, fmt.Errorf("count %s: %w", seqPrefixes()[i].coll, err)
		}
		out[i].InTarget = n
	}
	return out, nil
}

// seqModel is one key's write: the document to insert when none exists
// (under a deterministic _id, the natural key), and the $max update for an
// existing one, addressed by _id or, for documents OpenIM created with its
// own _id, by natural key.
type seqModel struct {
	doc    bson.D
	id     string
	filter bson.D
	update bson.D
}

// writeSeq inserts the documents that do not exist yet (unordered) and
// applies $max to those that do: a value is only ever raised.
func writeSeq(ctx context.Context, coll *mongo.Collection, models []seqModel) (int64, error) {
	docs := make([]any, len(models))
	for i, m := range models {
		docs[i] = m.doc
	}
	written, dups, err := insertNew(ctx, coll, docs)
	if err != nil {
		return written, err
	}
	for _, i := range dups {
		m := models[i]
		r, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.id}}, m.update)
		if err != nil {
			return written, err
		}
		if r.MatchedCount == 0 { // OpenIM's own document (another _id)
			if r, err = coll.UpdateOne(ctx, m.filter, m.update); err != nil {
				return written, err
			}
		}
		written += r.ModifiedCount
	}
	return written, nil
}

func seqUpdate(p seqPrefix, user, conv string, v int64) seqModel {
	filter := bson.D{{Key: "conversation_id", Value: conv}}
	id := conv
	others := []string{"max_seq", "min_seq"}
	if p.coll == "seq_user" {
		filter = bson.D{{Key: "user_id", Value: user}, {Key: "conversation_id", Value: conv}}
		id = user + "\x1f" + conv
		others = []string{"min_seq", "max_seq", "read_seq"}
	}
	doc := append(bson.D{{Key: "_id", Value: id}}, filter...)
	doc = append(doc, bson.E{Key: p.field, Value: v})
	for _, f := range others {
		if f != p.field {
			doc = append(doc, bson.E{Key: f, Value: int64(0)})
		}
	}
	return seqModel{doc: doc, id: id, filter: filter,
		update: bson.D{{Key: "$max", Value: bson.D{{Key: p.field, Value: v}}}}}
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

// verifySeq re-reads every key and checks Mongo holds at least its value.
func verifySeq(ctx context.Context, env *Env, ran Counts) (Counts, error) {
	rdb, err := env.Redis(ctx)
	if err != nil {
		return ran, err
	}
	db, err := env.Mongo(ctx)
	if err != nil {
		return ran, err
	}
	var bad []string
	for i, p := range seqPrefixes() {
		var keys int64
		err := scanPrefix(ctx, rdb, p.prefix, env.batch(), func(ks []string, vs []int64) error {
			for j, k := range ks {
				user, conv, ok := p.parse(strings.TrimPrefix(k, p.prefix))
				if !ok {
					continue
				}
				keys++
				filter := bson.M{"conversation_id": conv}
				id := conv
				if user != "" {
					filter["user_id"] = user
					id = user + "\x1f" + conv
				}
				var doc bson.M
				err := db.Collection(p.coll).FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
				if errors.Is(err, mongo.ErrNoDocuments) { // created by OpenIM with its own _id
					err = db.Collection(p.coll).FindOne(ctx, filter).Decode(&doc)
				}
				if errors.Is(err, mongo.ErrNoDocuments) {
					bad = append(bad, k+": missing in "+p.coll)
					continue
				}
				if err != nil {
					return fmt.Errorf("read %s: %w", p.coll, err)
				}
				if toInt64(doc[p.field]) < vs[j] {
					bad = append(bad, fmt.Sprintf("%s: %s.%s=%v < %d", k, p.coll, p.field, doc[p.field], vs[j]))
				}
			}
			return nil
		})
		if err != nil {
			return ran, fmt.Errorf("verify %s*: %w", p.prefix, err)
		}
		if i < len(ran) && ran[i].Source < keys {
			ran[i].Source = keys
		}
	}
	if len(bad) > 0 {
		if len(bad) > 10 {
			bad = append(bad[:10], fmt.Sprintf("... and %d more", len(bad)-10))
		}
		return ran, fmt.Errorf("verify: %d keys not reflected in Mongo: %s", len(bad), strings.Join(bad, "; "))
	}
	return ran, nil
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
