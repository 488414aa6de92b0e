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
	c := NewCapture(sink, 0)
	q := c.Queue("openim-api", 3)
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

// A writer producing far more than the queue holds must never block on a
// sink that takes 5ms per line; lines are dropped and counted instead.
func TestSlowSinkNeverBlocksWriter(t *testing.T) {
	t.Parallel()
	sink := &collect{delay: 5 * time.Millisecond}
	c := NewCapture(sink, 100)
	q := c.Queue("spam", 0)
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
	elapsed := time.Since(start)
	<-done
	r.Close()
	// 50000 lines at 5ms each would take 250s through the sink.
	if elapsed > 10*time.Second {
		t.Fatalf("writer took %v: blocked by the sink", elapsed)
	}
	c.Flush()
	got := sink.texts()
	if len(got) >= n {
		t.Fatalf("got %d lines, expected drops", len(got))
	}
	var dropped int
	for _, s := range got {
		var k int
		if _, err := fmt.Sscanf(s, "[openim-supervisor] %d lines dropped", &k); err == nil {
			dropped += k
		}
	}
	if dropped == 0 || dropped+len(got) < n {
		t.Fatalf("delivered %d, reported dropped %d, total written %d", len(got), dropped, n)
	}
	if last := got[len(got)-1]; last != fmt.Sprintf("line %d", n-1) {
		t.Fatalf("last line %q, want the newest line kept", last)
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
