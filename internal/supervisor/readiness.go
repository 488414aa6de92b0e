package supervisor

import "sync"

// readyGate closes its channel once every instance has been ready at least
// once since the start (READY=1 for systemd). Until arm (the pre-start
// tools are done) it stays open even with nothing to wait for.
type readyGate struct {
	mu      sync.Mutex
	pending map[*instance]bool
	armed   bool
	closed  bool
	ch      chan struct{}
}

func newReadyGate() *readyGate {
	return &readyGate{pending: map[*instance]bool{}, ch: make(chan struct{})}
}

// wait adds an instance to wait for (unless the gate is closed already: a
// reload's new instances do not take READY back).
func (g *readyGate) wait(in *instance) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.pending[in] = true
	}
}

// forget stops waiting for an instance (removed by a reload).
func (g *readyGate) forget(in *instance) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pending, in)
	g.check()
}

// ready is called each time an instance becomes ready.
func (g *readyGate) ready(in *instance) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pending, in)
	g.check()
}

// arm lets the gate close (the instances are being started).
func (g *readyGate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = true
	g.check()
}

func (g *readyGate) check() {
	if g.armed && !g.closed && len(g.pending) == 0 {
		g.closed = true
		close(g.ch)
	}
}

func (g *readyGate) done() <-chan struct{} { return g.ch }
