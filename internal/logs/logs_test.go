package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type collect struct {
	mu    sync.Mutex
	lines []Line
	delay time.Duration
}

func (c *collect) Write(l Line) {
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	c.mu.Lock()
	c.lines = append(c.lines, l)
	c.mu.Unlock()
}

func (c *collect) texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.lines {
		out = append(out, l.Text)
	}
	return out
}

func TestLinesFromPipe(t *testing.T) {
	t.Parallel()
	sink := &collect{}
	c := NewCapture(sink, Options{})
	q := c.Queue("openim-api", 3, QueueOptions{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { q.Consume(r, Stderr); close(done) }()
	long := strings.Repeat("x", MaxLine+10)
	fmt.Fprintf(w, "one\ntwo\r\npart")
	fmt.Fprintf(w, "ial\n%s\nlast-no-newline", long)
	w.Close()
	<-done
	r.Close()
	c.Flush()
	got := sink.texts()
	want := []string{"one", "two", "partial", long[:MaxLine], long[MaxLine:], "last-no-newline"}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d: %q", len(got), len(want), shorten(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d = %q, want %q", i, shorten(got[i:i+1]), shorten(want[i:i+1]))
		}
	}
	if l := sink.lines[0]; l.Process != "openim-api" || l.Index != 3 || l.Stream != Stderr || l.ID() != "openim-api:3" {
		t.Fatalf("line metadata %+v", l)
	}
}

func shorten(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		if len(x) > 20 {
			x = fmt.Sprintf("%s...(%d bytes)", x[:10], len(x))
		}
		out[i] = x
	}
	return out
}

// What OpenIM 3.8.3 writes to stdout with isStdout: true (console format):
// colour codes, and its version "v3.8.3\n" inside brackets, which splits
// every record over two lines.
const openimRecord = "2026-12-01 10:00:00.123 \x1b[34mINFO\x1b[0m \x1b[34m[PID:4242]     \x1b[0m \x1b[34mopenim-rpc-user          \x1b[0m [v3.8.3\n" +
	"]                      [startrpc/start.go:56]                        RPC server is initializing                        {\"rpcRegisterName\": \"user\"}\n"

func TestOpenIMRecordsOneLineWithoutColours(t *testing.T) {
	t.Parallel()
	for _, chunk := range []int{1, 7, len(openimRecord)} { // the record arriving in pieces too
		sink := &collect{}
		c := NewCapture(sink, Options{})
		q := c.Queue("openim-rpc-user", 0, QueueOptions{JoinSplitRecords: true})
		w := q.LineWriter(Stdout)
		in := openimRecord + openimRecord + "plain line\n[v1 not a tag] ok\nends in [v3.8.3\nnext line\n" + "last [v9"
		for i := 0; i < len(in); i += chunk {
			w.Feed([]byte(in[i:min(i+chunk, len(in))]))
		}
		w.Flush()
		c.Flush()
		want := "2026-12-01 10:00:00.123 INFO [PID:4242]      openim-rpc-user           [v3.8.3]                      [startrpc/start.go:56]                        RPC server is initializing                        {\"rpcRegisterName\": \"user\"}"
		got := sink.texts()
		wantAll := []string{want, want, "plain line", "[v1 not a tag] ok", "ends in [v3.8.3", "next line", "last [v9"}
		if strings.Join(got, "\n") != strings.Join(wantAll, "\n") {
			t.Fatalf("chunk %d: got\n%s\nwant\n%s", chunk, strings.Join(got, "\n"), strings.Join(wantAll, "\n"))
		}
	}
	// Without the option, a line is a line (colours still go).
	sink := &collect{}
	c := NewCapture(sink, Options{})
	w := c.Queue("extra", 0, QueueOptions{}).LineWriter(Stdout)
	w.Feed([]byte(openimRecord))
	c.Flush()
	if got := sink.texts(); len(got) != 2 || strings.Contains(got[0], "\x1b") {
		t.Fatalf("got %q", got)
	}
}

// A sink slower than the writer holds the writer back (the pipe fills), and
// nothing is lost: as runit's and s6's loggers do.
func TestSlowSinkLosesNothing(t *testing.T) {
	t.Parallel()
	sink := &slowBatches{}
	c := NewCapture(sink, Options{QueueBytes: 4096})
	q := c.Queue("spam", 0, QueueOptions{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { q.Consume(r, Stdout); close(done) }()
	const n = 100000
	var all []byte
	for i := 0; i < n; i++ {
		all = fmt.Appendf(all, "line %d\n", i)
	}
	if _, err := w.Write(all); err != nil { // as fast as the pipe takes it
		t.Fatal(err)
	}
	w.Close()
	<-done
	r.Close()
	c.Flush()
	got := sink.texts()
	if len(got) != n || q.Dropped() != 0 {
		t.Fatalf("got %d lines of %d, %d dropped", len(got), n, q.Dropped())
	}
	// Held back, not buffered: no batch holds much more output than the
	// queue (4 KiB of records, prefixes included) plus what one read brings
	// (32 KiB).
	if sink.largest > 4096+32<<10 {
		t.Fatalf("a batch of %d bytes: the queue grew instead of pausing the reader", sink.largest)
	}
	for i, s := range got {
		if s != fmt.Sprintf("line %d", i) {
			t.Fatalf("line %d = %q", i, s)
		}
	}
}

// slowBatches takes 2 ms per batch.
type slowBatches struct {
	collect
	largest int // output bytes (texts and newlines) of the largest batch
}

func (s *slowBatches) WriteBatch(b *Batch) {
	time.Sleep(2 * time.Millisecond)
	n := 0
	for i := 0; i < b.Len(); i++ {
		n += len(b.Text(i)) + 1
		s.collect.Write(b.Line(i))
	}
	s.largest = max(s.largest, n)
}

// blockSink blocks every write until released.
type blockSink struct {
	collect
	gate chan struct{}
}

func (b *blockSink) Write(l Line) {
	<-b.gate
	b.collect.Write(l)
}

// A sink that makes no progress for the stall time does not hold the child
// back for longer: the queue drops lines, counts them, and says so in the
// output once the sink moves again.
func TestStalledSinkDropsAndCounts(t *testing.T) {
	t.Parallel()
	sink := &blockSink{gate: make(chan struct{})}
	c := NewCapture(sink, Options{QueueBytes: 4096, Stall: 200 * time.Millisecond})
	q := c.Queue("spam", 0, QueueOptions{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { q.Consume(r, Stdout); close(done) }()
	const n = 50000
	start := time.Now()
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "line %d\n", i)
	}
	w.Close()
	<-done
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("writer held back %v by a stalled sink (stall 200ms)", el)
	}
	if q.Dropped() == 0 {
		t.Fatal("nothing dropped while the sink was stuck")
	}
	close(sink.gate) // the sink moves again
	r.Close()
	c.Flush()
	got := sink.texts()
	var reported uint64
	for _, s := range got {
		var k uint64
		if _, err := fmt.Sscanf(s, "[openim-supervisor] %d lines dropped", &k); err == nil {
			reported += k
		}
	}
	if reported != q.Dropped() || uint64(len(got))-1+q.Dropped() < n {
		t.Fatalf("delivered %d, dropped %d, reported %d, written %d", len(got), q.Dropped(), reported, n)
	}
}

// Bytes dropped while the sink was stalled do not glue a partial line
// from before the drop to one from after it: the partial line stands
// alone, after the report of what was dropped.
func TestDropKeepsLinesApart(t *testing.T) {
	t.Parallel()
	sink := &blockSink{gate: make(chan struct{})}
	c := NewCapture(sink, Options{QueueBytes: 64, Stall: 50 * time.Millisecond})
	q := c.Queue("p", 0, QueueOptions{})
	w := q.LineWriter(Stdout)
	w.Feed([]byte("first\naaa")) // cut at once: "aaa" waits in the splitter
	waitTaken(q)                 // the dispatcher took it and waits in the sink
	if !w.Feed([]byte(strings.Repeat("x", 100) + "\n")) {
		t.Fatal("a queue of 64 bytes is not full after 101")
	}
	room := make(chan struct{})
	w.WhenRoom(func() { close(room) })
	<-room // after the stall time: that line was dropped
	w.Feed([]byte("bbb\n"))
	w.Flush()
	close(sink.gate)
	c.Flush()
	want := []string{"first", "[openim-supervisor] 1 lines dropped (log sink too slow)", "aaa", "bbb"}
	if got := sink.texts(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// A stream that ended while the sink was stalled still gets its last
// partial line written when the sink moves again: the queued bytes are
// dropped, the end of the stream is not.
func TestStallKeepsStreamEnd(t *testing.T) {
	t.Parallel()
	sink := &blockSink{gate: make(chan struct{})}
	c := NewCapture(sink, Options{QueueBytes: 64, Stall: 50 * time.Millisecond})
	q := c.Queue("p", 0, QueueOptions{})
	w := q.LineWriter(Stdout)
	w.Feed([]byte("first\nlast words")) // cut at once: "last words" waits in the splitter
	waitTaken(q)
	w.Feed([]byte(strings.Repeat("x", 100) + "\n"))
	w.Flush() // the stream ends behind the full queue
	room := make(chan struct{})
	w.WhenRoom(func() { close(room) })
	<-room // after the stall time: the queued line was dropped
	close(sink.gate)
	c.Flush()
	want := []string{"first", "[openim-supervisor] 1 lines dropped (log sink too slow)", "last words"}
	if got := sink.texts(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// waitTaken waits until a dispatcher took what q held.
func waitTaken(q *Queue) {
	for taken := false; !taken; time.Sleep(time.Millisecond) {
		q.mu.Lock()
		taken = q.cur == nil
		q.mu.Unlock()
	}
}

func TestRingTailFollow(t *testing.T) {
	t.Parallel()
	r := NewRing(3)
	for i := 0; i < 5; i++ {
		r.Write(Line{Process: "p", Index: 1, Text: fmt.Sprint(i)})
	}
	got := r.Tail("p:1", 0)
	if len(got) != 3 || got[0].Text != "2" || got[2].Text != "4" {
		t.Fatalf("Tail all = %+v", got)
	}
	if got := r.Tail("p:1", 2); len(got) != 2 || got[0].Text != "3" {
		t.Fatalf("Tail 2 = %+v", got)
	}
	if got := r.Tail("p:9", 2); got != nil {
		t.Fatalf("Tail unknown = %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := r.Follow(ctx, "p:1")
	r.Write(Line{Process: "p", Index: 1, Text: "new"})
	r.Write(Line{Process: "p", Index: 2, Text: "other"})
	select {
	case l := <-ch:
		if l.Text != "new" {
			t.Fatalf("followed %q", l.Text)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no line followed")
	}
	cancel()
	for range ch { // closed after cancel
	}
}

func TestFileSinkRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := NewFileSink(dir, 1<<20, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text := strings.Repeat("y", 1000)
	now := time.Now()
	for i := 0; i < 3500; i++ { // ~3.5 MiB: at least 3 rotations
		s.Write(Line{Process: "openim-push", Index: 2, Time: now, Text: text})
	}
	s.Write(Line{Process: "openim-push", Index: 2, Stream: Stderr, Time: now, Text: "the end"})
	cur, err := os.ReadFile(filepath.Join(dir, "openim-push.2.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(cur), " stderr the end\n") {
		t.Fatalf("current file does not end with the last line")
	}
	if len(cur) > 1<<20 {
		t.Fatalf("current file %d bytes, above the 1 MiB limit", len(cur))
	}
	s.Close()
	m, _ := filepath.Glob(filepath.Join(dir, "openim-push.2.log.*"))
	if len(m) != 2 {
		t.Fatalf("rotated files: %v, want 2 (maxFiles)", m)
	}
	for _, f := range m {
		if fi, err := os.Stat(f); err != nil || fi.Size() > 1<<20 || fi.Size() < 900<<10 {
			t.Fatalf("rotated file %s: %v %v", f, fi.Size(), err)
		}
	}
	// Reopening appends to the current file.
	s2, _ := NewFileSink(dir, 1<<20, 2, nil)
	s2.Write(Line{Process: "openim-push", Index: 2, Time: now, Text: "again"})
	s2.Close()
	cur, _ = os.ReadFile(filepath.Join(dir, "openim-push.2.log"))
	if !strings.HasSuffix(string(cur), " stderr the end\n"+now.Format("2006-01-02T15:04:05.000Z07:00")+" stdout again\n") {
		t.Fatalf("reopened file does not append: %q", cur[len(cur)-80:])
	}
}

func TestJournalSinkFields(t *testing.T) {
	t.Parallel()
	j := NewJournalSink(nil)
	var got []string
	j.sent = func(msg string, pri journalPriority, vars map[string]string) error {
		got = append(got, fmt.Sprintf("%s|%d|%s|%s|%s", msg, pri, vars["OPENIM_PROCESS"], vars["OPENIM_INSTANCE"], vars["SYSLOG_IDENTIFIER"]))
		return nil
	}
	j.Write(Line{Process: "openim-push", Index: 4, Stream: Stderr, Text: "boom"})
	j.Write(Line{Process: "openim-push", Index: 4, Stream: Stdout, Text: "hello"})
	want := []string{"boom|3|openim-push|4|openim-push", "hello|6|openim-push|4|openim-push"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("sent %q, want %q", got, want)
	}
}

// TestRingKeepsLastLines: lines written one by one and in batches of any
// size; Tail always gives exactly the last ring-size lines, in order.
func TestRingKeepsLastLines(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 3, 10, 100} {
		r := NewRing(size)
		var all []string
		for round := 0; round < 40; round++ {
			n := (round*37)%(3*size) + 1
			if round%3 == 0 {
				for i := 0; i < n; i++ {
					s := fmt.Sprintf("r%d-%d", round, i)
					all = append(all, s)
					r.Write(Line{Process: "p", Index: 0, Text: s})
				}
			} else {
				b := &Batch{Process: "p", Index: 0}
				for i := 0; i < n; i++ {
					s := fmt.Sprintf("b%d-%d", round, i)
					all = append(all, s)
					b.add(Stream(i%2), int64(i), []byte(s))
				}
				r.WriteBatch(b)
			}
			want := all[max(0, len(all)-size):]
			got := r.Tail("p:0", 0)
			if len(got) != len(want) {
				t.Fatalf("size %d round %d: Tail has %d lines, want %d", size, round, len(got), len(want))
			}
			for i := range want {
				if got[i].Text != want[i] || got[i].Process != "p" {
					t.Fatalf("size %d round %d: line %d = %+v, want %q", size, round, i, got[i], want[i])
				}
			}
			if k := min(2, len(want)); len(r.Tail("p:0", k)) != k || r.Tail("p:0", k)[k-1].Text != want[len(want)-1] {
				t.Fatalf("size %d round %d: Tail(%d) wrong", size, round, k)
			}
			if held := r.instances["p:0"].n; held > size+max(16, size/4) {
				t.Fatalf("size %d: %d lines held", size, held)
			}
		}
	}
}

// TestFileSinkBatchRotation: batches written as whole records still rotate
// between lines, never past the size limit, and lose or reorder nothing.
func TestFileSinkBatchRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs, err := NewFileSink(dir, MinFileSize, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCapture(fs, Options{})
	w := c.Queue("openim-msggateway", 1, QueueOptions{}).LineWriter(Stderr)
	const n = 20000 // ~1.2 MiB of records: about 19 files of 64 KiB
	var in []byte
	for i := 0; i < n; i++ {
		in = fmt.Appendf(in, "line %d %s\n", i, strings.Repeat("x", i%50))
	}
	room := make(chan struct{}, 1)
	for len(in) > 0 {
		k := min(len(in), 7000) // reads that end inside a line
		if w.Feed(in[:k]) {
			w.WhenRoom(func() { room <- struct{}{} })
			<-room
		}
		in = in[k:]
	}
	c.Flush()
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "openim-msggateway.1.log")
	var files []string
	for k := 49; k >= 1; k-- {
		if _, err := os.Stat(base + "." + fmt.Sprint(k)); err == nil {
			files = append(files, base+"."+fmt.Sprint(k))
		}
	}
	files = append(files, base)
	if len(files) < 15 {
		t.Fatalf("%d files, want about 19 rotations of 64 KiB", len(files))
	}
	next := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > MinFileSize {
			t.Fatalf("%s: %d bytes, above the limit %d", f, len(data), MinFileSize)
		}
		for _, rec := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			parts := strings.SplitN(rec, " ", 3)
			if len(parts) != 3 || parts[1] != "stderr" {
				t.Fatalf("%s: record %q", f, rec)
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", parts[0]); err != nil {
				t.Fatalf("%s: record %q: %v", f, rec, err)
			}
			if want := fmt.Sprintf("line %d %s", next, strings.Repeat("x", next%50)); parts[2] != want {
				t.Fatalf("%s: record %q, want text %q", f, rec, want)
			}
			next++
		}
	}
	if next != n {
		t.Fatalf("%d lines in the files, want %d", next, n)
	}
}

func TestBatchCut(t *testing.T) {
	t.Parallel()
	b := &Batch{}
	for i := 0; i < 10; i++ {
		b.add(Stdout, 0, []byte(strings.Repeat("a", i)))
	}
	rec := func(from, to int) int { return len(b.Records(from, to)) }
	for from := 0; from < 10; from++ {
		for n := 0; n < 500; n += 7 {
			to := b.Cut(from, n)
			if to <= from || to > b.Len() {
				t.Fatalf("Cut(%d, %d) = %d", from, n, to)
			}
			if to > from+1 && rec(from, to) > n {
				t.Fatalf("Cut(%d, %d) = %d: %d bytes", from, n, to, rec(from, to))
			}
			if to < b.Len() && rec(from, to+1) <= n {
				t.Fatalf("Cut(%d, %d) = %d: one more line fits", from, n, to)
			}
		}
	}
	if got := string(b.Text(3)); got != "aaa" {
		t.Fatalf("Text(3) = %q", got)
	}
}

// TestSplitAnyChunking: the same output, cut into reads of any size, gives
// the same lines: whole lines, a trailing \r and colour codes removed,
// lines longer than MaxLine cut into MaxLine pieces, the last partial line
// on flush. Reads with and without escape codes take different paths.
func TestSplitAnyChunking(t *testing.T) {
	t.Parallel()
	rnd := func(seed uint64) func(n int) int { // xorshift: reproducible
		return func(n int) int {
			seed ^= seed << 13
			seed ^= seed >> 7
			seed ^= seed << 17
			return int(seed % uint64(n))
		}
	}
	for _, colours := range []bool{false, true} {
		splitAnyChunking(t, rnd, colours)
	}
}

func splitAnyChunking(t *testing.T, rnd func(uint64) func(int) int, colours bool) {
	r := rnd(42)
	var in []byte
	var want []string
	for i := 0; i < 3000; i++ {
		var text string
		switch r(20) {
		case 0: // longer than MaxLine, never a multiple of it
			text = strings.Repeat("L", MaxLine*(1+r(2))+1+r(1000))
			long := text
			for len(long) > MaxLine {
				want = append(want, long[:MaxLine])
				long = long[MaxLine:]
			}
			want = append(want, long)
		case 1:
			if !colours {
				text = fmt.Sprintf("plain %d", i)
				want = append(want, text)
				break
			}
			text = fmt.Sprintf("\x1b[31mred %d\x1b[0m", i)
			want = append(want, fmt.Sprintf("red %d", i))
		default:
			text = fmt.Sprintf("line %d %s", i, strings.Repeat("y", r(200)))
			want = append(want, text)
		}
		in = append(in, text...)
		if r(4) == 0 {
			in = append(in, '\r')
		}
		in = append(in, '\n')
	}
	in = append(in, "partial"...)
	want = append(want, "partial")
	for _, seed := range []uint64{1, 2, 3} {
		sink := &collect{}
		c := NewCapture(sink, Options{QueueBytes: 1 << 30})
		w := c.Queue("p", 0, QueueOptions{}).LineWriter(Stdout)
		cut := rnd(seed)
		for rest := in; len(rest) > 0; {
			k := min(len(rest), 1+cut(100000))
			w.Feed(rest[:k])
			rest = rest[k:]
		}
		w.Flush()
		c.Flush()
		got := sink.texts()
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("colours %v seed %d: line %d = %.60q (len %d), want %.60q (len %d)", colours, seed, i, got[i], len(got[i]), want[i], len(want[i]))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("colours %v seed %d: %d lines, want %d", colours, seed, len(got), len(want))
		}
	}
}
