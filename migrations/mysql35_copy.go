package migrations

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Run of step 3.5.0 (v3_5_0_mysql_to_mongo.go holds the mapping,
// mysql35_verify.go the verification).

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

// run35 copies every table and starts its verification (verifier35) as
// soon as its copy is done.
func run35(ctx context.Context, env *Env, v *verifier35) (_ Counts, err error) {
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
	vctx, cancel := context.WithCancel(ctx)
	v.cancel = cancel
	defer func() {
		if err != nil {
			v.stop()
		}
	}()
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
		v.start(vctx, env, sdb, mdb, t, c)
	}
	return out, nil
}

// CheckpointCollection holds one document per (step, table): the last key
// written and counters, updated only after the batch it describes is
// written, so after a crash at most one batch is replayed, and replays hit
// the same ObjectIDs.
const CheckpointCollection = "openim_supervisor_checkpoint"

type checkpoint struct {
	ID        string    `bson:"_id"`
	Last      []string  `bson:"last"` // primary key of the last row written (keyset tables)
	Rows      int64     `bson:"rows"` // source rows consumed
	Written   int64     `bson:"written"`
	Done      bool      `bson:"done"`
	UpdatedAt time.Time `bson:"updated_at"`
}

func saveCheckpoint(ctx context.Context, coll *mongo.Collection, id string, cp *checkpoint) error {
	cp.ID, cp.UpdatedAt = id, time.Now().UTC()
	_, err := coll.ReplaceOne(ctx, bson.M{"_id": id}, cp, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", id, err)
	}
	return nil
}

// page is one batch of converted rows.
type page struct {
	docs []bson.D
	nat  []bson.D // unique-key filter of each document (nil without a unique key)
	last []string // primary key of the batch's last row
	rows int      // source rows the batch consumed (conflicts dropped in the batch count too)
	err  error
}

// rowConverter turns scanned rows into documents.
type rowConverter struct {
	t      table35
	env    *Env
	order  []string
	fixed  map[string]any
	idTime int   // index of the _id time column
	uniq   []int // indexes of the unique-key columns
	// prev and occ number identical rows of a table without a unique key.
	prev []byte
	occ  uint64
}

func newConverter(t table35, env *Env) *rowConverter {
	c := &rowConverter{t: t, env: env, order: t.fieldOrder(), fixed: t.fixedFields(), idTime: t.colIndex(t.idTime)}
	for _, u := range t.unique {
		c.uniq = append(c.uniq, t.colIndex(u))
	}
	return c
}

// convert builds the document of one row (raw holds the table's columns).
func (c *rowConverter) convert(raw []sql.RawBytes) (bson.D, bson.D, error) {
	t := c.t
	vals := make(map[string]any, len(t.cols)+2)
	for i, col := range t.cols {
		v, err := convert(col.kind, raw[i], c.env.Zone)
		if err != nil {
			return nil, nil, fmt.Errorf("column %s: %w", col.src, err)
		}
		vals[col.dst] = v
	}
	if t.engine {
		vals["engine"] = c.env.S3Engine
	}
	for k, v := range c.fixed {
		vals[k] = v
	}
	var id []byte
	var nat bson.D
	if c.uniq != nil {
		for _, i := range c.uniq {
			id = identity(id, []byte(raw[i]))
			nat = append(nat, bson.E{Key: t.cols[i].dst, Value: vals[t.cols[i].dst]})
		}
	} else {
		// No unique key: the identity is every column, NULL apart from ""
		// and from a zero date, plus the row's number among identical rows
		// (the stream is ordered by every column, so they are adjacent).
		for i := range t.cols {
			id = identity(id, raw[i])
		}
		if bytes.Equal(id, c.prev) {
			c.occ++
		} else {
			c.prev, c.occ = bytes.Clone(id), 0
		}
		id = binary.AppendUvarint(id, c.occ)
	}
	ts, _ := vals[t.cols[c.idTime].dst].(time.Time)
	doc := make(bson.D, 0, len(c.order)+1)
	doc = append(doc, bson.E{Key: "_id", Value: objectID(ts, t.dst, id)})
	for _, f := range c.order {
		v, ok := vals[f]
		if !ok {
			return nil, nil, fmt.Errorf("field %s of OpenIM's %s has no source column", f, t.dst)
		}
		doc = append(doc, bson.E{Key: f, Value: v})
	}
	return doc, nat, nil
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
	if cp.Rows > 0 {
		env.Log.Info("3.5.0: resuming after checkpoint", "table", t.src, "rows", cp.Rows)
	} else {
		env.Log.Info("3.5.0: copying", "table", t.src, "to", t.dst, "rows", total)
	}
	// One reader goroutine prefetches the next batch while this one writes:
	// at most two batches in memory, whatever the table size.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 1)
	if t.key != nil {
		go readKeyset(rctx, env, sdb, t, cp.Last, pages)
	} else {
		go readStream(rctx, env, sdb, t, cp.Rows, pages)
	}
	coll := mdb.Collection(t.dst)
	for p := range pages {
		if p.err != nil {
			return c, p.err
		}
		if p.rows == 0 {
			break
		}
		w, err := writeBatch(ctx, coll, t, p.docs, p.nat)
		if err != nil {
			return c, fmt.Errorf("write %d documents: %w", len(p.docs), err)
		}
		// The batch is written; only now does the checkpoint move past it.
		cp.Rows += int64(p.rows)
		cp.Written += w
		c.Written += w
		cp.Last = p.last
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

// keysetSQL is the query of a table with a primary key: rows after the last
// key, in key order, the key columns selected after the data columns so the
// checkpoint holds exactly the values the next query compares with.
func (t table35) keysetSQL(after bool, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for _, c := range t.cols {
		b.WriteString(q(c.src) + ", ")
	}
	for i, k := range t.key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q(k))
	}
	b.WriteString(" FROM " + q(t.src))
	if after {
		// (k1 > ?) OR (k1 = ? AND k2 > ?) OR ... : MariaDB and MySQL 5.7 use
		// the primary key range for this form.
		b.WriteString(" WHERE ")
		for i := range t.key {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(")
			for j := 0; j < i; j++ {
				b.WriteString(q(t.key[j]) + " = ? AND ")
			}
			b.WriteString(q(t.key[i]) + " > ?)")
		}
	}
	b.WriteString(" ORDER BY ")
	for i, k := range t.key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q(k))
	}
	fmt.Fprintf(&b, " LIMIT %d", limit)
	return b.String()
}

func (t table35) keyArgs(last []string) []any {
	var args []any
	for i := range t.key {
		for j := 0; j < i; j++ {
			args = append(args, last[j])
		}
		args = append(args, last[i])
	}
	return args
}

// readKeyset pages a table by primary key into pages, from after last.
func readKeyset(ctx context.Context, env *Env, sdb *sql.DB, t table35, last []string, pages chan<- page) {
	defer close(pages)
	batch := env.BatchSize
	firstSQL, nextSQL := t.keysetSQL(false, batch), t.keysetSQL(true, batch)
	conv := newConverter(t, env)
	nc, nk := len(t.cols), len(t.key)
	raw := make([]sql.RawBytes, nc+nk)
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	read := func() (p page) {
		var rows *sql.Rows
		var err error
		if last == nil {
			rows, err = sdb.QueryContext(ctx, firstSQL)
		} else {
			rows, err = sdb.QueryContext(ctx, nextSQL, t.keyArgs(last)...)
		}
		if err != nil {
			p.err = fmt.Errorf("read: %w", err)
			return p
		}
		defer rows.Close()
		seen := map[[6]byte]bool{}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				p.err = fmt.Errorf("scan: %w", err)
				return p
			}
			doc, nat, err := conv.convert(raw[:nc])
			if err != nil {
				p.err = fmt.Errorf("row %s: %w", keyText(t, raw[nc:]), err)
				return p
			}
			p.rows++
			p.last = make([]string, nk)
			for i := range nk {
				p.last[i] = string(raw[nc+i])
			}
			// A later row whose narrower unique key repeats an earlier one
			// of the batch is a conflict: the first in key order is kept.
			id := identityOf(doc[0].Value.(primitive.ObjectID))
			if seen[id] {
				continue
			}
			seen[id] = true
			p.docs, p.nat = append(p.docs, doc), append(p.nat, nat)
		}
		if err := rows.Err(); err != nil {
			p.err = fmt.Errorf("read: %w", err)
		}
		return p
	}
	for {
		p := read()
		select {
		case pages <- p:
		case <-ctx.Done():
			return
		}
		if p.err != nil || p.rows < batch {
			return
		}
		last = p.last
	}
}

// streamSQL reads a table without a key in one pass, ordered by every
// column with NULL apart, so identical rows are adjacent and the order is
// the same on every run.
func (t table35) streamSQL() string {
	var sel, ord []string
	for _, c := range t.cols {
		sel = append(sel, q(c.src))
		o := q(c.src)
		if c.kind == kStr {
			o = "BINARY " + o
		}
		ord = append(ord, "ISNULL("+q(c.src)+")", o)
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + q(t.src) + " ORDER BY " + strings.Join(ord, ", ")
}

// readStream reads a table without a key in one ordered stream, skipping
// the rows an earlier run wrote (they are still numbered, so identical rows
// keep their ObjectIDs).
func readStream(ctx context.Context, env *Env, sdb *sql.DB, t table35, skip int64, pages chan<- page) {
	defer close(pages)
	send := func(p page) bool {
		select {
		case pages <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	conn, err := sdb.Conn(ctx)
	if err != nil {
		send(page{err: fmt.Errorf("read: %w", err)})
		return
	}
	defer conn.Close()
	// The writer may pause the stream between batches; give it time.
	if _, err := conn.ExecContext(ctx, "SET SESSION net_write_timeout = 3600"); err != nil {
		send(page{err: fmt.Errorf("read: %w", err)})
		return
	}
	rows, err := conn.QueryContext(ctx, t.streamSQL())
	if err != nil {
		send(page{err: fmt.Errorf("read: %w", err)})
		return
	}
	defer rows.Close()
	conv := newConverter(t, env)
	raw := make([]sql.RawBytes, len(t.cols))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var n int64
	var p page
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			send(page{err: fmt.Errorf("scan: %w", err)})
			return
		}
		doc, _, err := conv.convert(raw)
		if err != nil {
			send(page{err: fmt.Errorf("row %d: %w", n+1, err)})
			return
		}
		n++
		if n <= skip {
			continue
		}
		p.docs, p.nat = append(p.docs, doc), append(p.nat, nil)
		p.rows++
		if p.rows == env.BatchSize {
			if !send(p) {
				return
			}
			p = page{}
		}
	}
	if err := rows.Err(); err != nil {
		send(page{err: fmt.Errorf("read: %w", err)})
		return
	}
	if p.rows > 0 && !send(p) {
		return
	}
	send(page{}) // end
}

// keyText renders a primary key for messages.
func keyText(t table35, raw []sql.RawBytes) string {
	parts := make([]string, len(t.key))
	for i, k := range t.key {
		parts[i] = fmt.Sprintf("%s=%q", k, string(raw[i]))
	}
	return t.src + "(" + strings.Join(parts, ", ") + ")"
}

// writeBatch inserts the batch (unordered). A duplicate is resolved by what
// holds the key:
//   - the same _id: this migration wrote the row already (a batch replayed
//     after a crash): left alone;
//   - another ObjectID with the same identity part (bytes 6-11, the hash of
//     the unique key): an earlier row with the same narrower unique key, in
//     primary-key order (its time part differs): a conflict, left alone;
//   - a document someone else wrote (OpenIM or up35 ran before): the source
//     row is authoritative, so that document is replaced by the row's, under
//     the row's ObjectID (the old one is in the backup). Deleting it first is
//     safe across a kill: the batch is replayed until the checkpoint moves
//     past it.
//
// Inserts, not upserts, because MongoDB-wire servers such as FerretDB make
// an insert far cheaper.
func writeBatch(ctx context.Context, coll *mongo.Collection, t table35, docs, nat []bson.D) (int64, error) {
	ins := make([]any, len(docs))
	for i, d := range docs {
		ins[i] = d
	}
	written, dups, err := insertNew(ctx, coll, ins)
	if err != nil {
		return written, err
	}
	for _, i := range dups {
		id := docs[i][0].Value.(primitive.ObjectID)
		err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		if err == nil {
			continue // replayed
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return written, fmt.Errorf("look up %v: %w", id, err)
		}
		if nat[i] == nil {
			return written, fmt.Errorf("document %v: duplicate key in a collection without a unique index", id)
		}
		var holder struct {
			ID any `bson:"_id"`
		}
		err = coll.FindOne(ctx, nat[i], options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&holder)
		if err != nil {
			return written, fmt.Errorf("look up %v: %w", nat[i], err)
		}
		if oid, ok := holder.ID.(primitive.ObjectID); ok && identityOf(oid) == identityOf(id) {
			continue // an earlier row of the same unique key: a conflict
		}
		if _, err := coll.DeleteOne(ctx, nat[i]); err != nil {
			return written, fmt.Errorf("replace the document of %v: %w", nat[i], err)
		}
		if _, err := coll.InsertOne(ctx, docs[i]); err != nil {
			return written, fmt.Errorf("replace the document of %v: %w", nat[i], err)
		}
		written++
	}
	return written, nil
}
