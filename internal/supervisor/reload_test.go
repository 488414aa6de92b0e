//go:build linux

package supervisor

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

func TestPlanReload(t *testing.T) {
	t.Parallel()
	inst := func(name string, idx int, env ...string) config.Instance {
		return config.Instance{Process: name, Index: idx, Path: "/bin/" + name, Env: env}
	}
	old := []config.Instance{inst("a", 0), inst("b", 0), inst("b", 1), inst("c", 0)}
	next := []config.Instance{inst("b", 0, "X=1"), inst("a", 0), inst("d", 0), inst("b", 1)}
	p, err := planReload(old, next)
	if err != nil {
		t.Fatal(err)
	}
	got := p.result(true)
	want := ReloadResult{Added: []string{"d:0"}, Removed: []string{"c:0"}, Changed: []string{"b:0"}, Unchanged: 2, Rolling: true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plan %+v, want %+v", got, want)
	}
	if strings.Join(p.order, " ") != "b:0 a:0 d:0 b:1" {
		t.Fatalf("order %v", p.order)
	}
	if _, err := planReload(old, append(next, inst("a", 0))); err == nil {
		t.Fatal("duplicate instance accepted")
	}
}

// An env change touches every instance: a reload restarts them one at a
// time, each ready before the next, so at most one is down at any moment;
// progress tells each step. All at once is an option.
func TestReloadRolls(t *testing.T) {
	t.Parallel()
	needLinux(t)
	ready := &config.Ready{After: dur(200 * time.Millisecond)}
	cfg := newConfig(t,
		config.Process{Name: "openim-push", Instances: 3, Ready: ready},
		config.Process{Name: "openim-api", Instances: 1, Ready: ready},
	)
	h := start(t, cfg, nil)
	h.waitReady(10 * time.Second)
	before := h.m.Status()

	var mu sync.Mutex
	maxDown := 0
	observe := make(chan struct{})
	go func() {
		for {
			select {
			case <-observe:
				return
			case <-h.wake:
			}
			down := 0
			for _, s := range h.m.Status() {
				if s.State != StateRunning {
					down++
				}
			}
			mu.Lock()
			maxDown = max(maxDown, down)
			mu.Unlock()
		}
	}()
	next := *cfg
	next.Defaults.Env = map[string]string{"IMENV_LOG_ISSTDOUT": "true"} // as an env-file edit would
	next.Processes = append([]config.Process(nil), cfg.Processes...)
	var events []Event
	res, err := h.m.ReloadWith(context.Background(), &next, ReloadOptions{Progress: func(e Event) { events = append(events, e) }})
	close(observe)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 4 || !res.Rolling {
		t.Fatalf("result %+v", res)
	}
	after := h.m.Status()
	for i := range after {
		if after[i].PID == before[i].PID || after[i].State != StateRunning {
			t.Fatalf("%s not restarted: %+v", after[i].ID(), after[i])
		}
		if i > 0 && after[i].StartedAt.Sub(after[i-1].StartedAt) < 200*time.Millisecond {
			t.Errorf("%s started %v after the previous one, before it was ready", after[i].ID(), after[i].StartedAt.Sub(after[i-1].StartedAt))
		}
	}
	mu.Lock()
	if maxDown > 1 {
		t.Errorf("%d instances down at once during a rolling reload", maxDown)
	}
	mu.Unlock()
	var steps []string
	for _, e := range events {
		steps = append(steps, e.Instance+" "+string(e.Step))
	}
	if len(steps) != 16 || steps[0] != "openim-push:0 stopping" || steps[3] != "openim-push:0 ready" || steps[15] != "openim-api:0 ready" {
		t.Errorf("progress: %v", steps)
	}

	// All at once: every instance restarts together.
	next2 := next
	next2.Defaults.Env = map[string]string{"IMENV_LOG_ISSTDOUT": "false"}
	res, err = h.m.ReloadWith(context.Background(), &next2, ReloadOptions{AllAtOnce: true})
	if err != nil || res.Rolling || len(res.Changed) != 4 {
		t.Fatalf("all at once: %+v %v", res, err)
	}
	again := h.m.Status()
	for _, s := range again[1:] {
		if d := s.StartedAt.Sub(again[0].StartedAt); d > 150*time.Millisecond || d < -150*time.Millisecond {
			t.Errorf("%s started %v apart from the first, want together", s.ID(), d)
		}
	}
}
