//go:build unix

package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// set is openim-api, openim-rpc-auth, openim-rpc-user and three openim-push.
func set() []supervisor.InstanceStatus {
	var out []supervisor.InstanceStatus
	for _, p := range []struct {
		name string
		n    int
	}{{"openim-api", 1}, {"openim-rpc-auth", 1}, {"openim-rpc-user", 1}, {"openim-push", 3}} {
		for i := 0; i < p.n; i++ {
			out = append(out, supervisor.InstanceStatus{Name: p.name, Index: i, State: supervisor.StateRunning})
		}
	}
	return out
}

func TestSelectTargets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		specs []string
		want  string // targets, or the error's code and message
	}{
		{[]string{"openim-rpc-*"}, "[openim-rpc-auth openim-rpc-user]"},
		{[]string{"openim-push", "openim-api"}, "[openim-api openim-push]"}, // config order
		{[]string{"openim-p*:2"}, "[openim-push:2]"},
		{[]string{"openim-*:0"}, "[openim-api:0 openim-rpc-auth:0 openim-rpc-user:0 openim-push:0]"},
		{[]string{"openim-push:1", "openim-push:1"}, "[openim-push:1]"},
		{[]string{"openim-api", "all"}, "[all]"},
		{[]string{"opnim-push"}, `not_found: no process named "opnim-push"; did you mean openim-push?`},
		{[]string{"openim-rpc-usr"}, `did you mean openim-rpc-user?`},
		{[]string{"openim-nope"}, `not_found: no process named "openim-nope" (known:`},
		{[]string{"openim-x*"}, `not_found: no process matches "openim-x*"`},
		{[]string{"openim-push:3"}, "not_found: openim-push has no instance 3 (instances 0-2)"},
		{[]string{"openim-[a"}, "bad_request: target \"openim-[a\": bad pattern"},
		{nil, "bad_request: missing target"},
	} {
		got, err := selectTargets(tc.specs, set())
		var s string
		if err != nil {
			var re *RemoteError
			if !errors.As(err, &re) {
				t.Errorf("%v: error %v is not a RemoteError", tc.specs, err)
				continue
			}
			s = re.Code + ": " + re.Msg
		} else {
			s = fmt.Sprint(got)
		}
		if !strings.Contains(s, tc.want) {
			t.Errorf("%v: got %q, want %q", tc.specs, s, tc.want)
		}
	}
}

func TestStatusFilterProgressAndSignal(t *testing.T) {
	t.Parallel()
	fb := newFake()
	c, _ := serve(t, &Server{Backend: fb})
	ctx := tctx(t)

	st, err := c.Status(ctx, "openim-p*:1")
	if err != nil || len(st.Instances) != 1 || st.Instances[0].ID() != "openim-push:1" {
		t.Fatalf("status openim-p*:1 = %+v, %v", st, err)
	}
	if _, err := c.Status(ctx, "opnim-api"); err == nil || !strings.Contains(err.Error(), "did you mean openim-api?") {
		t.Errorf("status of a typo: %v", err)
	}

	// A rolling restart reports each instance before and after its step.
	var events []string
	_, err = c.DoProgress(ctx, Request{Op: OpRestart, Targets: []string{"openim-push"}, Rolling: true}, func(p Progress) {
		events = append(events, fmt.Sprintf("%d/%d %s done=%v", p.Step, p.Total, p.Target, p.Done))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1/3 openim-push:0 done=false", "1/3 openim-push:0 done=true", "2/3 openim-push:1 done=false",
		"2/3 openim-push:1 done=true", "3/3 openim-push:2 done=false", "3/3 openim-push:2 done=true"}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("progress = %v, want %v", events, want)
	}
	// Stop of several processes: reverse config order.
	fb.calls = nil
	if _, err := c.Do(ctx, Request{Op: OpStop, Targets: []string{"openim-api", "openim-push"}}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(fb.calls) != "[stop openim-push stop openim-api]" {
		t.Errorf("stop order: %v", fb.calls)
	}
	fb.calls = nil
	if _, err := c.Do(ctx, Request{Op: OpSignal, Signal: "HUP", Targets: []string{"openim-push:2"}}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(fb.calls) != "[signal HUP openim-push:2]" {
		t.Errorf("signal calls: %v", fb.calls)
	}
	_, err = c.Do(ctx, Request{Op: OpSignal, Targets: []string{"openim-push"}})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeBadRequest {
		t.Errorf("signal without a name: %v", err)
	}
}

// Issue 9, item 6: status --json leaves out times that are not set.
func TestStatusJSONOmitsZeroTimes(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(StatusReply{Instances: []supervisor.InstanceStatus{{Name: "x", State: supervisor.StateStopped,
		LastExit: &supervisor.Exit{Err: "exec: not found"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "0001-01-01") {
		t.Errorf("zero time in %s", b)
	}
}
