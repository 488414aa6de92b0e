package migrations

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Run and verify of step 3.5.0 (v3_5_0_mysql_to_mongo.go holds the mapping).

func tablesPresent(ctx context.Context, db *sql.DB) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
	if err != nil {
		return nil, fmt.Errorf("list MySQL tables: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

func countRows(ctx context.Context, db *sql.DB, table string) (int64, error) {
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+q(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

func run35(ctx context.Context, env *Env) (Counts, error) {
	sdb, err := env.MySQL(ctx)
	if err != nil {
		return nil, fmt.Errorf("MySQL (OpenIM 3.4's data): %w", err)
	}
	mdb, err := env.Mongo(ctx)
	if err != nil {
		return nil, err
	}
	present, err := tablesPresent(ctx, sdb)
	if err != nil {
		return nil, err
	}
	if !present["users"] {
		return nil, errors.New("the MySQL database has no `users` table: this is not OpenIM 3.4's database " +
			"(check the database name in the mysql: section / DSN)")
	}
	var out Counts
	for _, t := range tables35() {
		if !present[t.src] {
			env.Log.Warn("3.5.0: table absent in MySQL, nothing to copy", "table", t.src)
			out = append(out, TableCount{Table: t.src + " (absent)", Target: t.dst})
			continue
		}
		c, err := copyTable(ctx, env, sdb, mdb, t)
		out = append(out, c)
		if err != nil {
			return out, fmt.Errorf("%s -> %s: %w", t.src, t.dst, err)
		}
	}
	return out, nil
}

func copyTable(ctx context.Context, env *Env, sdb *sql.DB, mdb *mongo.Database, t table35) (TableCount, error) {
	c := TableCount{Table: t.src, Target: t.dst}
	total, err := countRows(ctx, sdb, t.src)
	if err != nil {
		return c, err
	}
	c.Source = total
	cpColl := mdb.Collection(CheckpointCollection)
	cpID := "3.5.0/" + t.src
	var cp checkpoint
	err = cpColl.FindOne(ctx, bson.M{"_id": cpID}).Decode(&cp)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return c, fmt.Errorf("read checkpoint: %w", err)
	}
	if cp.Done {
		env.Log.Info("3.5.0: table already copied (checkpoint)", "table", t.src, "rows", cp.Rows)
		return c, nil
	}
	if cp.Last != nil {
		env.Log.Info("3.5.0: resuming after checkpoint", "table", t.src, "rows", cp.Rows)
	} else {
		env.Log.Info("3.5.0: copying", "table", t.src, "to", t.dst, "rows", total)
	}
	batch := env.batch()
	firstSQL, nextSQL := t.selectSQL(false, batch), t.selectSQL(true, batch)
	coll := mdb.Collection(t.dst)
	zone := env.zone()
	nc, nk := len(t.cols), len(t.key)
	raw := make([]sql.RawBytes, nc+nk)
	ptrs := make([]any, nc+nk)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	// read returns the batch after last (nil: from the start) and its last key.
	read := func(ctx context.Context, last []string) ([]bson.D, []string, error) {
		var rows *sql.Rows
		var err error
		if last == nil {
			rows, err = sdb.QueryContext(ctx, firstSQL)
		} else {
			rows, err = sdb.QueryContext(ctx, nextSQL, t.keyArgs(last)...)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read: %w", err)
		}
		defer rows.Close()
		docs := make([]bson.D, 0, batch)
		var key []string
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return nil, nil, fmt.Errorf("scan: %w", err)
			}
			doc := make(bson.D, 0, nc+1)
			for i, col := range t.cols {
				v, err := convert(col.kind, raw[i], zone)
				if err != nil {
					return nil, nil, fmt.Errorf("column %s: %w", col.src, err)
				}
				doc = append(doc, bson.E{Key: col.dst, Value: v})
			}
			if t.engine {
				doc = append(doc, bson.E{Key: "engine", Value: env.S3Engine})
			}
			key = make([]string, nk)
			for i := range nk {
				key[i] = string(raw[nc+i])
			}
			docs = append(docs, doc)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("read: %w", err)
		}
		return docs, key, nil
	}
	// One reader goroutine prefetches the next batch while this one writes:
	// at most two batches in memory, whatever the table size.
	type page struct {
		docs []bson.D
		key  []string
		err  error
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		last := cp.Last
		for {
			docs, key, err := read(rctx, last)
			select {
			case pages <- page{docs, key, err}:
			case <-rctx.Done():
				return
			}
			if err != nil || len(docs) < batch {
				return
			}
			last = key
		}
	}()
	for p := range pages {
		if p.err != nil {
			return c, p.err
		}
		if len(p.docs) == 0 {
			break
		}
		w, err := writeBatch(ctx, coll, t, p.docs)
		if err != nil {
			return c, fmt.Errorf("write %d documents: %w", len(p.docs), err)
		}
		// The batch is written; only now does the checkpoint move past it.
		cp.Rows += int64(len(p.docs))
		cp.Written += w
		c.Written += w
		cp.Last = p.key
		if err := saveCheckpoint(ctx, cpColl, cpID, &cp); err != nil {
			return c, err
		}
		env.progress(t.src, cp.Rows, total)
		env.pause()
	}
	if err := ctx.Err(); err != nil {
		return c, err
	}
	cp.Done = true
	if err := saveCheckpoint(ctx, cpColl, cpID, &cp); err != nil {
		return c, err
	}
	env.Log.Info("3.5.0: table copied", "table", t.src, "rows", cp.Rows, "written", cp.Written)
	return c, nil
}

func saveCheckpoint(ctx context.Context, coll *mongo.Collection, id string, cp *checkpoint) error {
	cp.ID, cp.UpdatedAt = id, time.Now().UTC()
	_, err := coll.ReplaceOne(ctx, bson.M{"_id": id}, cp, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", id, err)
	}
	return nil
}

// natID is the document _id: the natural key's values joined with U+001F
// (times as RFC 3339 UTC). Writing by _id makes a replayed batch hit the
// same documents (idempotent by construction, even for meeting_record, which
// has no unique key) and is the one lookup every MongoDB-wire server indexes.
func natID(t table35, doc bson.D) string {
	var b strings.Builder
	for i, n := range t.nat {
		if i > 0 {
			b.WriteByte(0x1f)
		}
		f := t.dstOf(n)
		for _, e := range doc {
			if e.Key == f {
				switch v := e.Value.(type) {
				case time.Time:
					b.WriteString(v.UTC().Format(time.RFC3339Nano))
				default:
					fmt.Fprint(&b, v)
				}
				break
			}
		}
	}
	if t.engine {
		b.WriteByte(0x1f)
		fmt.Fprint(&b, doc[len(doc)-1].Value)
	}
	return b.String()
}

// natFilter selects a document by its natural key fields (the slow path for
// documents that already exist with another _id, e.g. written by OpenIM).
func natFilter(t table35, doc bson.D) bson.D {
	filter := make(bson.D, 0, len(t.nat)+1)
	for _, n := range t.nat {
		f := t.dstOf(n)
		for _, e := range doc {
			if e.Key == f {
				filter = append(filter, e)
				break
			}
		}
	}
	if t.engine {
		filter = append(filter, doc[len(doc)-1])
	}
	return filter
}

// writeBatch inserts the batch (unordered) under natural-key _ids. A
// duplicate _id is a document this migration already wrote (a batch replayed
// after a crash: same source row, same document), so it is left alone. A
// duplicate natural key under another _id is a document someone else wrote
// (e.g. OpenIM 3.5 already ran): it is replaced through the natural key when
// the source row is authoritative, and left alone for narrower keys (the
// first row in key order wins; later ones are conflicts). Inserts, not
// upserts, because MongoDB-wire servers such as FerretDB make an insert
// far cheaper than an upsert.
func writeBatch(ctx context.Context, coll *mongo.Collection, t table35, docs []bson.D) (int64, error) {
	ins := make([]any, len(docs))
	for i, d := range docs {
		ins[i] = append(bson.D{{Key: "_id", Value: natID(t, d)}}, d...)
	}
	written, dups, err := insertNew(ctx, coll, ins)
	if err != nil {
		return written, err
	}
	for _, i := range dups {
		id := ins[i].(bson.D)[0].Value
		n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: id}})
		if err != nil {
			return written, fmt.Errorf("look up %v: %w", id, err)
		}
		if n > 0 || t.narrower() {
			continue // ours (replayed), or a conflict under a narrower key
		}
		r, err := coll.ReplaceOne(ctx, natFilter(t, docs[i]), docs[i])
		if err != nil {
			return written, fmt.Errorf("replace by natural key: %w", err)
		}
		written += r.ModifiedCount
	}
	return written, nil
}

// verify35 checks, per table, source rows = target documents + conflicts,
// and writes the conflicting rows to <ReportDir>/conflicts-3.5.0-<table>.jsonl.
func verify35(ctx context.Context, env *Env, ran Counts) (Counts, error) {
	sdb, err := env.MySQL(ctx)
	if err != nil {
		return ran, err
	}
	mdb, err := env.Mongo(ctx)
	if err != nil {
		return ran, err
	}
	present, err := tablesPresent(ctx, sdb)
	if err != nil {
		return ran, err
	}
	byTable := map[string]*TableCount{}
	for i := range ran {
		byTable[ran[i].Table] = &ran[i]
	}
	var bad []string
	for _, t := range tables35() {
		if !present[t.src] {
			continue
		}
		c := byTable[t.src]
		if c == nil {
			ran = append(ran, TableCount{Table: t.src, Target: t.dst})
			c = &ran[len(ran)-1]
		}
		if c.Source, err = countRows(ctx, sdb, t.src); err != nil {
			return ran, err
		}
		if t.narrower() {
			if c.Conflicts, err = reportConflicts(ctx, env, sdb, t); err != nil {
				return ran, err
			}
		}
		if c.InTarget, err = mdb.Collection(t.dst).CountDocuments(ctx, bson.D{}); err != nil {
			return ran, fmt.Errorf("count %s: %w", t.dst, err)
		}
		if c.InTarget != c.Source-c.Conflicts {
			bad = append(bad, fmt.Sprintf("%s: %d rows - %d conflicts != %d documents in %s",
				t.src, c.Source, c.Conflicts, c.InTarget, t.dst))
		}
	}
	if len(bad) > 0 {
		return ran, fmt.Errorf("verify: %s", strings.Join(bad, "; "))
	}
	return ran, nil
}

// reportConflicts finds the rows whose natural key (compared byte-wise, as
// MongoDB does) repeats an earlier row's, writes them to the report file and
// returns how many there are.
func reportConflicts(ctx context.Context, env *Env, sdb *sql.DB, t table35) (int64, error) {
	var natExpr, natEq []string
	for _, n := range t.nat {
		e := t.keyExprFor(n)
		natExpr = append(natExpr, e)
		natEq = append(natEq, e+" = ?")
	}
	groups, err := sdb.QueryContext(ctx, fmt.Sprintf("SELECT %s, COUNT(*) FROM %s GROUP BY %s HAVING COUNT(*) > 1",
		strings.Join(natExpr, ", "), q(t.src), strings.Join(natExpr, ", ")))
	if err != nil {
		return 0, fmt.Errorf("find conflicts in %s: %w", t.src, err)
	}
	var keys [][]any
	var total int64
	for groups.Next() {
		vals := make([]sql.RawBytes, len(t.nat)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := groups.Scan(ptrs...); err != nil {
			groups.Close()
			return 0, err
		}
		k := make([]any, len(t.nat))
		for i := range t.nat {
			k[i] = string(vals[i])
		}
		var n int64
		fmt.Sscan(string(vals[len(t.nat)]), &n)
		total += n - 1
		keys = append(keys, k)
	}
	if err := groups.Err(); err != nil {
		groups.Close()
		return 0, err
	}
	groups.Close()
	path := filepath.Join(env.ReportDir, "conflicts-3.5.0-"+t.src+".jsonl")
	if total == 0 {
		_ = os.Remove(path)
		return 0, nil
	}
	if err := os.MkdirAll(env.ReportDir, 0o750); err != nil {
		return total, err
	}
	f, err := os.Create(path)
	if err != nil {
		return total, fmt.Errorf("conflict report: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	sel := strings.TrimSuffix(t.selectSQL(false, 1<<30), fmt.Sprintf(" LIMIT %d", 1<<30))
	sel = strings.Replace(sel, " ORDER BY ", " WHERE "+strings.Join(natEq, " AND ")+" ORDER BY ", 1)
	nc := len(t.cols)
	for _, k := range keys {
		rows, err := sdb.QueryContext(ctx, sel, k...)
		if err != nil {
			return total, fmt.Errorf("read conflicts of %s: %w", t.src, err)
		}
		first := true
		for rows.Next() {
			raw := make([]sql.RawBytes, nc+len(t.key))
			ptrs := make([]any, len(raw))
			for i := range raw {
				ptrs[i] = &raw[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return total, err
			}
			if first { // the kept row
				first = false
				continue
			}
			rec := map[string]any{"table": t.src, "kept_in": t.dst, "reason": "natural key " + strings.Join(t.nat, "+") + " already taken by an earlier row"}
			row := map[string]any{}
			for i, c := range t.cols {
				if raw[i] == nil {
					row[c.src] = nil
				} else {
					row[c.src] = string(raw[i])
				}
			}
			rec["row"] = row
			b, _ := json.Marshal(rec)
			w.Write(append(b, '\n'))
		}
		rows.Close()
	}
	if err := w.Flush(); err != nil {
		return total, err
	}
	env.Log.Warn("3.5.0: rows that cannot all be kept under OpenIM 3.5's narrower unique key", "table", t.src, "conflicts", total, "report", path)
	return total, f.Sync()
}

// keyExprFor is the byte-wise comparison expression for a natural-key column.
func (t table35) keyExprFor(c string) string {
	for _, col := range t.cols {
		if col.src == c && col.kind == kStr {
			return "BINARY COALESCE(" + q(c) + ", '')"
		}
	}
	return "COALESCE(" + q(c) + ", '0000-00-00 00:00:00')"
}
