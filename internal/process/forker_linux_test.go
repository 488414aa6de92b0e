package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

func newForker(t *testing.T) *Forker {
	t.Helper()
	f, err := NewForker(2)
	if err != nil {
		t.Skipf("no forker here: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// openDevNulls opens n descriptors, closed when the test ends.
func openDevNulls(tb testing.TB, n int) {
	tb.Helper()
	for range n {
		fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { unix.Close(fd) })
	}
}

// forkerFds lists the forker threads' descriptors other than the anonymous
// ones they keep for the runtime (epoll sets, eventfds).
func forkerFds(t *testing.T, f *Forker) []string {
	t.Helper()
	var out []string
	for _, th := range f.threads {
		dir := "/proc/self/task/" + strconv.Itoa(th.tid) + "/fd"
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			l, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err != nil || strings.HasPrefix(l, "anon_inode:") {
				continue
			}
			out = append(out, strconv.Itoa(th.tid)+":"+e.Name()+"->"+l)
		}
	}
	return out
}

// The forker's table holds nothing of the supervisor's: not the hundreds of
// descriptors open when it started (each fork would copy them), not a
// pipe's write end (whose reader would then never see EOF), and not the
// read ends of the children it started (handed over, then closed).
// Not parallel: it counts the process's descriptors.
func TestForkerTableStaysSmall(t *testing.T) {
	sh := needUnix(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	openDevNulls(t, 500)
	f := newForker(t)
	poller, err := NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer poller.Close()

	// 0-2, its /dev/null and its end of the socket pair, on each of the 2 threads.
	if got := forkerFds(t, f); len(got) > 10 {
		t.Fatalf("forker thread holds %d descriptors, want at most 5 per thread: %v", len(got), got)
	}
	w.Close()
	r.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := r.Read(make([]byte, 1)); n != 0 || err == nil || os.IsTimeout(err) {
		t.Fatalf("read after the only write end closed: %d %v, want EOF (the forker kept a copy)", n, err)
	}

	c := logs.NewCapture(&sink{}, logs.Options{})
	var procs []*Process
	for i := range 50 {
		p, err := Start(context.Background(), Spec{Path: sh, Args: []string{"-c", "echo started; exec sleep 30"},
			Output: c.Queue("t"+strconv.Itoa(i), 0, logs.QueueOptions{}), Poller: poller, Forker: f})
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	got := forkerFds(t, f)
	for _, p := range procs {
		p.Kill()
		p.Exit()
		<-p.OutputDone()
	}
	if len(got) > 10 {
		t.Fatalf("with 50 children the forker thread holds %d descriptors, want at most 5 per thread: %v", len(got), got)
	}
}

// A child started through the forker sees what exec.Cmd would have given
// it: the name looked up in PATH, argv[0] as given, the working directory,
// the later of two entries for one variable.
func TestForkerStartsAsExecDoes(t *testing.T) {
	needUnix(t)
	f := newForker(t)
	dir := t.TempDir()
	run := func(fk *Forker, path string, args ...string) []string {
		out := &sink{}
		c := logs.NewCapture(out, logs.Options{})
		p, err := Start(context.Background(), Spec{Path: path, Args: args,
			Env: []string{"PATH=" + os.Getenv("PATH"), "A=1", "A=2"}, Dir: dir,
			Output: c.Queue("t", 0, logs.QueueOptions{}), Forker: fk})
		if err != nil {
			t.Fatal(err)
		}
		if ex := p.Exit(); ex.Code != 0 {
			t.Fatalf("exit %+v", ex)
		}
		<-p.OutputDone()
		c.Flush()
		// The two streams are read apart: compare the lines, not their order.
		l := strings.Split(out.all(), "|")
		slices.Sort(l)
		return l
	}
	sh := []string{"-c", `echo "$0 $(pwd)"; echo err >&2`}
	if got, want := run(f, "sh", sh...), []string{"stderr:err", "stdout:sh " + dir}; !slices.Equal(got, want) {
		t.Fatalf("through the forker: %q, want %q", got, want)
	}
	if got, exec := run(f, "sh", sh...), run(nil, "sh", sh...); !slices.Equal(got, exec) {
		t.Fatalf("forker %q, exec.Cmd %q", got, exec)
	}
	// env(1) prints the environment as it came, without a shell's own
	// deduplication in between.
	if got, exec := run(f, "env"), run(nil, "env"); !slices.Equal(got, exec) || !slices.Contains(got, "stdout:A=2") || slices.Contains(got, "stdout:A=1") {
		t.Fatalf("environment through the forker %q, through exec.Cmd %q; want A=2 only", got, exec)
	}
}

// A failed start leaves no descriptor behind and says what failed.
// Not parallel: it counts the process's descriptors.
func TestForkerStartFailure(t *testing.T) {
	needUnix(t)
	f := newForker(t)
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fds := func() int { e, _ := os.ReadDir("/proc/self/fd"); return len(e) }
	before := fds()
	c := logs.NewCapture(&sink{}, logs.Options{})
	for _, tc := range []struct{ path, dir, want string }{
		{filepath.Join(dir, "missing"), "", "no such file"},
		{noexec, "", "permission denied"},
		{"/bin/sh", filepath.Join(dir, "nodir"), "no such file"},
	} {
		_, err := Start(context.Background(), Spec{Path: tc.path, Dir: tc.dir, Forker: f,
			Output: c.Queue("t", 0, logs.QueueOptions{})})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Fatalf("start %s in %q: %v, want an error naming it with %q", tc.path, tc.dir, err, tc.want)
		}
	}
	if after := fds(); after != before {
		t.Fatalf("%d descriptors after failed starts, %d before", after, before)
	}
	if got := forkerFds(t, f); len(got) > 10 {
		t.Fatalf("forker thread holds %v after failed starts", got)
	}
}

// Closing a forker must not end a child: its Pdeathsig fires when the
// thread that forked it ends.
func TestForkerCloseSparesChildren(t *testing.T) {
	t.Parallel()
	sh := needUnix(t)
	f := newForker(t) // Close is idempotent
	p, err := Start(context.Background(), Spec{Path: sh, Args: []string{"-c", "exec sleep 30"}, Forker: f})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Kill(); p.Exit() }()
	f.Close()
	if q, err := Start(context.Background(), Spec{Path: sh, Args: []string{"-c", "exit 0"}, Forker: f}); err == nil {
		q.Exit()
		t.Fatal("a start through a closed forker succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if ex, err := p.Wait(ctx); err == nil {
		t.Fatalf("child ended when its forker closed: %+v", ex)
	}
}

// A thread with a live child must not end; the check sees children that
// exec.Cmd forked from the thread before a forker took it.
func TestThreadMayEnd(t *testing.T) {
	sh := needUnix(t)
	done := make(chan string)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		// Other tests may have forked from this thread before.
		before := threadMayEnd()
		p, err := Start(context.Background(), Spec{Path: sh, Args: []string{"-c", "exec sleep 30"}})
		if err != nil {
			done <- err.Error()
			return
		}
		alive := threadMayEnd()
		p.Kill()
		p.Exit()
		switch {
		case alive:
			done <- "threadMayEnd with a child running"
		case before && !threadMayEnd():
			done <- "not threadMayEnd after the child was reaped"
		default:
			done <- ""
		}
	}()
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
}

// BenchmarkStartManyDescriptors starts /bin/true with its output piped,
// forking from the calling thread and from a forker, while the process
// holds no other descriptors and then 3000 (what 1000 children cost the
// supervisor): one run prints both.
func BenchmarkStartManyDescriptors(b *testing.B) {
	poller, err := NewPoller()
	if err != nil {
		b.Fatal(err)
	}
	defer poller.Close()
	forker, err := NewForker(2)
	if err != nil {
		b.Skip(err)
	}
	defer forker.Close()
	c := logs.NewCapture(&sink{}, logs.Options{})
	q := c.Queue("b", 0, logs.QueueOptions{})
	for _, extra := range []int{0, 3000} {
		if extra > 0 {
			openDevNulls(b, extra)
		}
		for _, bc := range []struct {
			name   string
			forker *Forker
		}{{"exec", nil}, {"forker", forker}} {
			b.Run(fmt.Sprintf("fds=%d/%s", extra, bc.name), func(b *testing.B) {
				var start time.Duration
				for b.Loop() {
					t0 := time.Now()
					p, err := Start(context.Background(), Spec{Path: "/bin/true", Output: q, Poller: poller, Forker: bc.forker})
					if err != nil {
						b.Fatal(err)
					}
					start += time.Since(t0)
					p.Exit()
					<-p.OutputDone()
				}
				b.ReportMetric(float64(start.Microseconds())/float64(b.N), "µs-start/op")
			})
		}
	}
}
