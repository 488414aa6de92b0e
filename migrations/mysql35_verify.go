package migrations

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/openim-supervisor/openim-supervisor/migrations/openimmodel"
)

// Verification of step 3.5.0. Per table:
//
//  1. every document of the target collection decodes into OpenIM's model
//     type and has every field, with the BSON type OpenIM writes
//     (openimmodel.CheckAt);
//  2. a checksum over every migrated field: MySQL computes it over the
//     source rows with SQL (its own reading of the columns: NULL, zero
//     dates, booleans, the DATETIME text), the verifier over the documents
//     it reads back (rendering each field in the same canonical text, times
//     in --time-zone). Rows that are conflicts (narrower unique key) are
//     taken out of the source side with the same SQL. Counts and sums must
//     match;
//  3. when they do not, a comparison row by row (by unique key, or as a
//     multiset for meeting_video_record) names every missing row, every
//     field that differs and every document with no source row. Documents
//     with no source row (written by OpenIM before) are kept and reported;
//     a missing row or a wrong field fails the step.
//
// Every finding goes to <report dir>/verify-3.5.0-<table>.jsonl, every
// conflict to conflicts-3.5.0-<table>.jsonl.

// canonField is one field of the canonical row text.
type canonField struct {
	dst   string
	kind  colKind
	src   string // source column, "" for a fixed value
	fixed string // canonical text of a fixed value
}

// canonFields lists the fields the checksum covers, in the model's order.
func (t table35) canonFields(env *Env) []canonField {
	bySrc := map[string]col{}
	for _, c := range t.cols {
		bySrc[c.dst] = c
	}
	var out []canonField
	for _, f := range t.fieldOrder() {
		if c, ok := bySrc[f]; ok {
			out = append(out, canonField{dst: f, kind: c.kind, src: c.src})
			continue
		}
		switch {
		case f == "engine" && t.engine:
			out = append(out, canonField{dst: f, kind: kStr, fixed: env.S3Engine})
		default:
			switch v := t.fixedFields()[f].(type) {
			case bool:
				out = append(out, canonField{dst: f, kind: kBool, fixed: boolText(v)})
			case string:
				out = append(out, canonField{dst: f, kind: kStr, fixed: v})
			}
		}
	}
	return out
}

func boolText(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

const canonTimeLayout = "2006-01-02 15:04:05.000000"

// normSQL is MySQL's canonical text of one field; args are its parameters.
func (f canonField) normSQL(env *Env) (string, []any) {
	if f.src == "" {
		return "?", []any{f.fixed}
	}
	c := q(f.src)
	switch f.kind {
	case kStr:
		return "CONVERT(COALESCE(" + c + ", '') USING utf8mb4)", nil
	case kInt32, kInt64, kUnixSec:
		return "CAST(COALESCE(" + c + ", 0) AS SIGNED)", nil
	case kBool:
		return "IF(COALESCE(" + c + ", 0) <> 0, '1', '0')", nil
	case kTime:
		return "IF(" + c + " IS NULL OR DATE_FORMAT(" + c + ", '%Y-%m-%d') = '0000-00-00', ?, DATE_FORMAT(" + c + ", '%Y-%m-%d %H:%i:%s.%f'))",
			[]any{zeroTime.In(env.Zone).Format(canonTimeLayout)}
	}
	panic("unknown kind")
}

// canonSQL is the whole row's canonical text: every field length-prefixed.
func (t table35) canonSQL(env *Env) (string, []any) {
	var parts []string
	var args []any
	for _, f := range t.canonFields(env) {
		e, a := f.normSQL(env)
		parts = append(parts, "OCTET_LENGTH("+e+"), ':', "+e)
		args = append(args, a...)
		args = append(args, a...)
	}
	return "CONCAT(" + strings.Join(parts, ", ") + ")", args
}

// hashSQL is the 60-bit number MySQL sums: the first 15 hex digits of the
// SHA-256 of the canonical text.
func hashSQL(canon string) string {
	return "CAST(CONV(LEFT(SHA2(" + canon + ", 256), 15), 16, 10) AS UNSIGNED)"
}

func hash60(s string) uint64 {
	h := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(h[:8]) >> 4
}

// docText is the canonical text of one field of a document, as normSQL
// renders the source column.
func (f canonField) docText(raw bson.Raw, zone *time.Location) (string, error) {
	v, err := raw.LookupErr(f.dst)
	if err != nil {
		return "", fmt.Errorf("field %s missing", f.dst)
	}
	switch {
	case f.kind == kStr && v.Type == bsontype.String:
		return v.StringValue(), nil
	case f.kind == kBool && v.Type == bsontype.Boolean:
		return boolText(v.Boolean()), nil
	case (f.kind == kInt32 || f.kind == kInt64) && v.Type == bsontype.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10), nil
	case (f.kind == kInt32 || f.kind == kInt64) && v.Type == bsontype.Int64:
		return strconv.FormatInt(v.Int64(), 10), nil
	case f.kind == kTime && v.Type == bsontype.DateTime:
		return v.Time().In(zone).Format(canonTimeLayout), nil
	case f.kind == kUnixSec && v.Type == bsontype.DateTime:
		return strconv.FormatInt(v.Time().Unix(), 10), nil
	}
	return "", fmt.Errorf("field %s is BSON %s", f.dst, v.Type)
}

func canonDoc(fields []canonField, raw bson.Raw, zone *time.Location) ([]string, string, error) {
	texts := make([]string, len(fields))
	var b strings.Builder
	for i, f := range fields {
		s, err := f.docText(raw, zone)
		if err != nil {
			return nil, "", err
		}
		texts[i] = s
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return texts, b.String(), nil
}

// sums is a count and a checksum.
type sums struct {
	n   int64
	sum *big.Int
}

func newSums() sums { return sums{sum: new(big.Int)} }

func (s *sums) add(h uint64) { s.n++; s.sum.Add(s.sum, new(big.Int).SetUint64(h)) }

func (s sums) equal(o sums) bool { return s.n == o.n && s.sum.Cmp(o.sum) == 0 }

// verifier35 verifies each table of step 3.5.0 as soon as its copy is done,
// while the next table is copied (reading every document back is what
// costs, on a MongoDB-wire server that scans), and Verify collects the
// results. A Step's Run and Verify share one verifier35: Data() builds new
// steps for every plan.
type verifier35 struct {
	mu      sync.Mutex
	started map[string]bool
	results map[string]tableCheck
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

type tableCheck struct {
	c   TableCount
	msg string
	err error
}

// start verifies table t in the background (once).
func (v *verifier35) start(ctx context.Context, env *Env, sdb *sql.DB, mdb *mongo.Database, t table35, c TableCount) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.started == nil {
		v.started, v.results = map[string]bool{}, map[string]tableCheck{}
	}
	if v.started[t.src] {
		return
	}
	v.started[t.src] = true
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		msg, err := verifyTable(ctx, env, sdb, mdb, t, &c)
		if err != nil {
			err = fmt.Errorf("verify %s: %w", t.src, err)
		}
		v.mu.Lock()
		v.results[t.src] = tableCheck{c: c, msg: msg, err: err}
		v.mu.Unlock()
	}()
}

// stop cancels and waits for the background verifications (Run failed).
func (v *verifier35) stop() {
	if v.cancel != nil {
		v.cancel()
	}
	v.wg.Wait()
}

// verify waits for every table's verification (starting those Run did not,
// e.g. when Verify runs alone) and merges their counts into ran.
func (v *verifier35) verify(ctx context.Context, env *Env, ran Counts) (Counts, error) {
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
	byTable := map[string]int{}
	for i := range ran {
		byTable[ran[i].Table] = i
	}
	for _, t := range tables35() {
		if present[t.src] {
			c := TableCount{Table: t.src, Target: t.dst}
			if i, ok := byTable[t.src]; ok {
				c = ran[i]
			}
			v.start(ctx, env, sdb, mdb, t, c)
		}
	}
	v.wg.Wait()
	if v.cancel != nil {
		v.cancel()
	}
	var bad []string
	var errs []error
	for _, t := range tables35() {
		if !present[t.src] {
			continue
		}
		v.mu.Lock()
		r := v.results[t.src]
		v.mu.Unlock()
		if i, ok := byTable[t.src]; ok {
			ran[i] = r.c
		} else {
			ran = append(ran, r.c)
		}
		if r.err != nil {
			errs = append(errs, r.err)
		}
		if r.msg != "" {
			bad = append(bad, r.msg)
		}
	}
	if len(errs) > 0 {
		return ran, errors.Join(errs...)
	}
	if len(bad) > 0 {
		return ran, errors.New(strings.Join(bad, "; "))
	}
	return ran, nil
}

// verifyTable returns a non-empty message when the table fails.
func verifyTable(ctx context.Context, env *Env, sdb *sql.DB, mdb *mongo.Database, t table35, c *TableCount) (string, error) {
	canon, args := t.canonSQL(env)
	var srcN int64
	var srcSum sql.NullString
	if err := sdb.QueryRowContext(ctx, "SELECT COUNT(*), SUM("+hashSQL(canon)+") FROM "+q(t.src), args...).Scan(&srcN, &srcSum); err != nil {
		return "", fmt.Errorf("source checksum: %w", err)
	}
	src := newSums()
	src.n = srcN
	if srcSum.Valid {
		if _, ok := src.sum.SetString(srcSum.String, 10); !ok {
			return "", fmt.Errorf("source checksum %q is not a number", srcSum.String)
		}
	}
	c.Source = srcN
	conf, err := reportConflicts(ctx, env, sdb, t)
	if err != nil {
		return "", err
	}
	c.Conflicts = conf.n
	want := sums{n: src.n - conf.n, sum: new(big.Int).Sub(src.sum, conf.sum)}

	fields := t.canonFields(env)
	got := newSums()
	var undecodable []string
	cur, err := mdb.Collection(t.dst).Find(ctx, bson.D{})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", t.dst, err)
	}
	for cur.Next(ctx) {
		if err := openimmodel.CheckAt(cur.Current, openimmodel.For(t.dst), "3.5.0"); err != nil {
			undecodable = append(undecodable, fmt.Sprintf("%s %s: %v", t.dst, docKey(t, cur.Current), err))
			continue
		}
		_, text, err := canonDoc(fields, cur.Current, env.Zone)
		if err != nil {
			undecodable = append(undecodable, fmt.Sprintf("%s %s: %v", t.dst, docKey(t, cur.Current), err))
			continue
		}
		got.add(hash60(text))
	}
	err = cur.Err()
	cur.Close(ctx)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", t.dst, err)
	}
	c.InTarget = got.n + int64(len(undecodable))
	c.Checksum = fmt.Sprintf("%x", want.sum)
	if len(undecodable) > 0 {
		return fmt.Sprintf("%s -> %s: %d documents OpenIM cannot read as its model: %s", t.src, t.dst, len(undecodable), firstN(undecodable, 5)), nil
	}
	if got.equal(want) {
		return "", nil
	}
	env.Log.Warn("3.5.0: checksum differs, comparing row by row", "table", t.src,
		"source_rows", src.n, "conflicts", conf.n, "documents", got.n)
	d, err := diagnose(ctx, env, sdb, mdb, t)
	if err != nil {
		return "", fmt.Errorf("compare row by row: %w", err)
	}
	c.Extra = int64(len(d.extra))
	path, err := d.write(env, t)
	if err != nil {
		return "", err
	}
	if len(d.missing) == 0 && len(d.different) == 0 {
		if len(d.extra) > 0 {
			env.Log.Warn("3.5.0: documents with no source row kept", "collection", t.dst, "count", len(d.extra), "report", path)
			return "", nil
		}
		return fmt.Sprintf("%s -> %s: the checksums differ (source %d rows - %d conflicts, %d documents) but no row differs: "+
			"report this; details in %s", t.src, t.dst, src.n, conf.n, got.n, path), nil
	}
	var parts []string
	if len(d.missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d source rows missing in %s: %s", len(d.missing), t.dst, firstN(d.missing, 5)))
	}
	if len(d.different) > 0 {
		parts = append(parts, fmt.Sprintf("%d documents differ from their rows: %s", len(d.different), firstN(d.different, 5)))
	}
	return fmt.Sprintf("%s -> %s: %s; all findings in %s", t.src, t.dst, strings.Join(parts, "; "), path), nil
}

func firstN(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, "; ")
	}
	return strings.Join(list[:n], "; ") + fmt.Sprintf("; ... and %d more", len(list)-n)
}

// docKey names a document by its unique key (or _id).
func docKey(t table35, raw bson.Raw) string {
	var parts []string
	for _, u := range t.unique {
		f := t.cols[t.colIndex(u)].dst
		parts = append(parts, fmt.Sprintf("%s=%s", f, raw.Lookup(f).String()))
	}
	if len(parts) == 0 {
		parts = append(parts, "_id="+raw.Lookup("_id").String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// reportConflicts finds the rows of a narrower-key table that are not kept
// (their unique key, compared byte-wise as MongoDB does, repeats an earlier
// row's in primary-key order), writes them to the conflict report and
// returns their count and checksum.
func reportConflicts(ctx context.Context, env *Env, sdb *sql.DB, t table35) (sums, error) {
	out := newSums()
	path := filepath.Join(env.ReportDir, "conflicts-3.5.0-"+t.src+".jsonl")
	if !t.narrower() {
		_ = os.Remove(path)
		return out, nil
	}
	var uniq, pk []string
	for _, u := range t.unique {
		uniq = append(uniq, "BINARY "+q(u))
	}
	for _, k := range t.key {
		pk = append(pk, q(k))
	}
	canon, args := t.canonSQL(env)
	var sel []string
	for _, c := range t.cols {
		sel = append(sel, q(c.src))
	}
	u := strings.Join(uniq, ", ")
	query := fmt.Sprintf("SELECT %s, %s, %s FROM %s WHERE (%s) IN (SELECT %s FROM %s GROUP BY %s HAVING COUNT(*) > 1) ORDER BY %s, %s",
		strings.Join(sel, ", "), hashSQL(canon), u, q(t.src), u, u, q(t.src), u, u, strings.Join(pk, ", "))
	rows, err := sdb.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("find conflicts in %s: %w", t.src, err)
	}
	defer rows.Close()
	nc, nu := len(t.cols), len(t.unique)
	raw := make([]sql.RawBytes, nc+1+nu)
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var w *bufio.Writer
	var f *os.File
	var prev string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return out, err
		}
		var key []string
		for i := range nu {
			key = append(key, string(raw[nc+1+i]))
		}
		k := strings.Join(key, "\x00")
		if k != prev { // the kept row: first of its key in primary-key order
			prev = k
			continue
		}
		h, err := strconv.ParseUint(string(raw[nc]), 10, 64)
		if err != nil {
			return out, fmt.Errorf("conflict checksum %q: %w", raw[nc], err)
		}
		out.add(h)
		if w == nil {
			if err := os.MkdirAll(env.ReportDir, 0o750); err != nil {
				return out, err
			}
			if f, err = os.Create(path); err != nil {
				return out, fmt.Errorf("conflict report: %w", err)
			}
			defer f.Close()
			w = bufio.NewWriter(f)
		}
		row := map[string]any{}
		for i, c := range t.cols {
			if raw[i] == nil {
				row[c.src] = nil
			} else {
				row[c.src] = string(raw[i])
			}
		}
		b, _ := json.Marshal(map[string]any{"table": t.src, "kept_in": t.dst, "row": row,
			"reason": "unique key " + strings.Join(t.unique, "+") + " of " + t.dst + " already taken by an earlier row in primary-key order"})
		_, _ = w.Write(append(b, '\n'))
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if w == nil {
		_ = os.Remove(path)
		return out, nil
	}
	if err := w.Flush(); err != nil {
		return out, err
	}
	env.Log.Warn("3.5.0: rows that cannot all be kept under OpenIM 3.5's narrower unique key", "table", t.src, "conflicts", out.n, "report", path)
	return out, f.Sync()
}

// diagnosis lists what differs between a table and its collection.
type diagnosis struct {
	missing, different, extra []string
	records                   []map[string]any
}

func (d *diagnosis) add(kind, text string, rec map[string]any) {
	switch kind {
	case "missing":
		d.missing = append(d.missing, text)
	case "different":
		d.different = append(d.different, text)
	case "extra":
		d.extra = append(d.extra, text)
	}
	rec["finding"] = kind
	d.records = append(d.records, rec)
}

func (d *diagnosis) write(env *Env, t table35) (string, error) {
	path := filepath.Join(env.ReportDir, "verify-3.5.0-"+t.src+".jsonl")
	if err := os.MkdirAll(env.ReportDir, 0o750); err != nil {
		return path, err
	}
	f, err := os.Create(path)
	if err != nil {
		return path, fmt.Errorf("verification report: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, r := range d.records {
		r["table"], r["collection"] = t.src, t.dst
		b, _ := json.Marshal(r)
		_, _ = w.Write(append(b, '\n'))
	}
	err = errors.Join(w.Flush(), f.Sync(), f.Close())
	return path, err
}

// diagnose compares a table with its collection row by row.
func diagnose(ctx context.Context, env *Env, sdb *sql.DB, mdb *mongo.Database, t table35) (*diagnosis, error) {
	if t.unique == nil {
		return diagnoseMultiset(ctx, env, sdb, mdb, t)
	}
	return diagnoseByKey(ctx, env, sdb, mdb, t)
}

// srcRow is one source row as the diagnosis reads it.
type srcRow struct {
	key   []string
	texts []string
}

// diagnoseByKey merges the source (ordered by the unique key byte-wise, then
// the primary key, so the kept row of a conflict comes first) with the
// collection (sorted by the unique key).
func diagnoseByKey(ctx context.Context, env *Env, sdb *sql.DB, mdb *mongo.Database, t table35) (*diagnosis, error) {
	fields := t.canonFields(env)
	var sel, ord []string
	var args []any
	for _, u := range t.unique {
		sel = append(sel, "BINARY "+q(u))
		ord = append(ord, "BINARY "+q(u))
	}
	for _, f := range fields {
		e, a := f.normSQL(env)
		sel = append(sel, e)
		args = append(args, a...)
	}
	for _, k := range t.key {
		ord = append(ord, q(k))
	}
	rows, err := sdb.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+q(t.src)+" ORDER BY "+strings.Join(ord, ", "), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.src, err)
	}
	defer rows.Close()
	nu := len(t.unique)
	raw := make([]sql.RawBytes, nu+len(fields))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var lastKey string
	nextSrc := func() (*srcRow, error) {
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			r := &srcRow{}
			for i := range nu {
				r.key = append(r.key, string(raw[i]))
			}
			for i := range fields {
				r.texts = append(r.texts, string(raw[nu+i]))
			}
			if k := strings.Join(r.key, "\x00"); k == lastKey {
				continue // a conflict: not in the target by design
			} else {
				lastKey = k
			}
			return r, nil
		}
		return nil, rows.Err()
	}
	sort := bson.D{}
	var ufields []string
	for _, u := range t.unique {
		f := t.cols[t.colIndex(u)].dst
		ufields = append(ufields, f)
		sort = append(sort, bson.E{Key: f, Value: 1})
	}
	cur, err := mdb.Collection(t.dst).Find(ctx, bson.D{}, options.Find().SetSort(sort).SetAllowDiskUse(true))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.dst, err)
	}
	defer cur.Close(ctx)
	type docRow struct {
		key   []string
		texts []string
	}
	nextDoc := func() (*docRow, error) {
		if !cur.Next(ctx) {
			return nil, cur.Err()
		}
		d := &docRow{}
		for _, f := range ufields {
			s, _ := cur.Current.Lookup(f).StringValueOK()
			d.key = append(d.key, s)
		}
		texts, _, err := canonDoc(fields, cur.Current, env.Zone)
		if err != nil {
			return nil, fmt.Errorf("%s %v: %w", t.dst, d.key, err)
		}
		d.texts = texts
		return d, nil
	}
	keyText := func(key []string) string {
		parts := make([]string, len(key))
		for i, k := range key {
			parts[i] = fmt.Sprintf("%s=%q", t.unique[i], k)
		}
		return t.src + "(" + strings.Join(parts, ", ") + ")"
	}
	keyMap := func(key []string) map[string]string {
		m := map[string]string{}
		for i, k := range key {
			m[t.unique[i]] = k
		}
		return m
	}
	cmp := func(a, b []string) int {
		for i := range a {
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	}
	d := &diagnosis{}
	s, err := nextSrc()
	if err != nil {
		return nil, err
	}
	m, err := nextDoc()
	if err != nil {
		return nil, err
	}
	for s != nil || m != nil {
		switch {
		case m == nil || (s != nil && cmp(s.key, m.key) < 0):
			d.add("missing", keyText(s.key), map[string]any{"key": keyMap(s.key)})
			if s, err = nextSrc(); err != nil {
				return nil, err
			}
		case s == nil || cmp(s.key, m.key) > 0:
			d.add("extra", keyText(m.key), map[string]any{"key": keyMap(m.key)})
			if m, err = nextDoc(); err != nil {
				return nil, err
			}
		default:
			var diffs []string
			fieldDiffs := map[string]any{}
			for i, f := range fields {
				if s.texts[i] != m.texts[i] {
					diffs = append(diffs, fmt.Sprintf("%s MySQL %q, MongoDB %q", f.dst, s.texts[i], m.texts[i]))
					fieldDiffs[f.dst] = map[string]string{"mysql": s.texts[i], "mongodb": m.texts[i]}
				}
			}
			if len(diffs) > 0 {
				d.add("different", keyText(s.key)+": "+strings.Join(diffs, ", "), map[string]any{"key": keyMap(s.key), "fields": fieldDiffs})
			}
			if s, err = nextSrc(); err != nil {
				return nil, err
			}
			if m, err = nextDoc(); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// diagnoseMultiset compares a table without a unique key with its
// collection as multisets of canonical rows (memory: one entry per distinct
// row; only run when the checksums differ).
func diagnoseMultiset(ctx context.Context, env *Env, sdb *sql.DB, mdb *mongo.Database, t table35) (*diagnosis, error) {
	fields := t.canonFields(env)
	canon, args := t.canonSQL(env)
	rows, err := sdb.QueryContext(ctx, "SELECT "+canon+" FROM "+q(t.src), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.src, err)
	}
	count := map[string]int{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		count[s]++
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	cur, err := mdb.Collection(t.dst).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.dst, err)
	}
	defer cur.Close(ctx)
	d := &diagnosis{}
	for cur.Next(ctx) {
		_, s, err := canonDoc(fields, cur.Current, env.Zone)
		if err != nil {
			return nil, err
		}
		if count[s] > 0 {
			count[s]--
			continue
		}
		d.add("extra", t.dst+" "+cur.Current.Lookup("_id").String(), map[string]any{"_id": cur.Current.Lookup("_id").String()})
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	for s, n := range count {
		for range n {
			text, row := canonRow(fields, s)
			d.add("missing", t.src+" row "+text, map[string]any{"row": row})
		}
	}
	return d, nil
}

// canonRow splits a canonical row text back into its fields.
func canonRow(fields []canonField, s string) (string, map[string]string) {
	row := map[string]string{}
	var parts []string
	for _, f := range fields {
		n, rest, ok := strings.Cut(s, ":")
		l, err := strconv.Atoi(n)
		if !ok || err != nil || l > len(rest) {
			return strconv.Quote(s), map[string]string{"canonical": s}
		}
		row[f.dst], s = rest[:l], rest[l:]
		parts = append(parts, fmt.Sprintf("%s=%q", f.dst, row[f.dst]))
	}
	return "(" + strings.Join(parts, ", ") + ")", row
}
