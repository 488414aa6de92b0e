package supervisor

import (
	"context"
	"time"
)

// Component is a server the OpenIM services need (MongoDB, Redis, Kafka,
// etcd, MinIO) at host:port; Options.Components lists them.
type Component struct {
	Name string
	Addr string
}

func (c Component) String() string { return c.Name + " at " + c.Addr }

// componentTool is the pre-start tool that waits for the components:
// OpenIM's check-component, which tries them once a second. While it runs,
// the supervisor tries them itself every componentPoll (a TCP connection);
// when one that was down accepts connections and every other does too, the
// tool is started again, and its first try finds them up: a component that
// comes up late is noticed within componentPoll instead of up to a second
// later. The tool stays the judge: its exit decides the pre-start.
const (
	componentTool = "check-component"
	componentPoll = 100 * time.Millisecond
)

// cameUp returns a channel that is closed once every component accepts a
// TCP connection after at least one of them did not; it is never closed
// when all are up at the first try (nothing to speed up) or ctx ends first.
func cameUp(ctx context.Context, cs []Component) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		sawDown := false
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			down := false
			for _, c := range cs {
				dctx, cancel := context.WithTimeout(ctx, time.Second)
				err := checkTCP(dctx, c.Addr) // the readiness check's dial
				cancel()
				if err != nil {
					down = true
					break
				}
			}
			switch {
			case down:
				sawDown = true
			case sawDown:
				close(ch)
				return
			default:
				return // all up at once: the tool's first try is enough
			}
			t.Reset(componentPoll)
		}
	}()
	return ch
}
