package process

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/logs"
)

// The test binary doubles as the child: OPENIM_PROCESS_TEST_CHILD=exit:N
// exits N, =sleep sleeps (until killed).
func TestMain(m *testing.M) {
	switch v := os.Getenv("OPENIM_PROCESS_TEST_CHILD"); {
	case v == "sleep":
		os.Stdout.WriteString("sleeping\n")
		time.Sleep(time.Hour)
		os.Exit(0)
	case len(v) > 5 && v[:5] == "exit:":
		n, _ := strconv.Atoi(v[5:])
		os.Stdout.WriteString("exiting\n")
		os.Exit(n)
	}
	os.Exit(m.Run())
}

func child(t *testing.T, mode string, out *logs.Queue) *Process {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(context.Background(), Spec{Path: self, Env: Environ(BaseEnv(), []string{"OPENIM_PROCESS_TEST_CHILD=" + mode}),
		StopTimeout: 500 * time.Millisecond, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWindowsExitCodeOutputAndStop(t *testing.T) {
	out := &sink{}
	c := logs.NewCapture(out, logs.Options{})
	p := child(t, "exit:3", c.Queue("t", 0, logs.QueueOptions{}))
	if ex := p.Exit(); ex.Code != 3 {
		t.Fatalf("exit %+v, want 3", ex)
	}
	<-p.OutputDone()
	c.Flush()
	if got := out.all(); got != "stdout:exiting" {
		t.Fatalf("output %q", got)
	}
	p = child(t, "sleep", nil)
	t0 := time.Now()
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() || time.Since(t0) > 10*time.Second {
		t.Fatalf("not stopped after %v", time.Since(t0))
	}
}
