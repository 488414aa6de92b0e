package supervisor

import (
	"context"
	"fmt"
	"net"
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
// OpenIM's check-component, which tries them once a second. Before it
// starts, the supervisor waits for every component to accept a TCP
// connection, trying each every componentPoll: the tool's first try then
// finds them up, and a component that comes up late is noticed within
// componentPoll instead of up to a second later.
const (
	componentTool = "check-component"
	componentPoll = 100 * time.Millisecond
)

// awaitComponents returns once every component accepts a TCP connection,
// or ctx ends: then the error names the first still unreachable. progress
// is told the first unreachable one and why, each round one is.
func awaitComponents(ctx context.Context, cs []Component, progress func(Component, error)) error {
	var d net.Dialer
	left := append([]Component(nil), cs...)
	for {
		var down []Component
		var first error
		for _, c := range left {
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			conn, err := d.DialContext(dctx, "tcp", c.Addr)
			cancel()
			if err == nil {
				conn.Close()
				continue
			}
			if first == nil {
				first = err
			}
			down = append(down, c)
		}
		if len(down) == 0 {
			return nil
		}
		progress(down[0], first)
		left = down
		t := time.NewTimer(componentPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s not reachable: %w", down[0], first)
		case <-t.C:
		}
	}
}
