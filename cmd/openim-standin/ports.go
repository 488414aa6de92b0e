package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/openimconf"
)

// openimPorts is the part of OpenIM's openim-<name>.yml the stand-in reads:
// the RPC ports (every service but openim-api) and the API's HTTP ports.
type openimPorts struct {
	RPC struct {
		Ports []int `mapstructure:"ports"`
	} `mapstructure:"rpc"`
	API struct {
		Ports []int `mapstructure:"ports"`
	} `mapstructure:"api"`
}

// listenPort is a port the stand-in listens on. A port from OpenIM's
// config is optional: tests that run many stand-ins with one OpenIM config
// dir share it, and only the first gets it (the others say so on stderr).
type listenPort struct {
	port     int
	optional bool
}

// ports returns the ports the stand-in of name (instance index) listens
// on: its standin.yaml port, then the port OpenIM's own config gives that
// service (rpc.ports, api.ports for openim-api), where the supervisor's
// readiness checks dial.
func ports(name string, index int, dir string, cfg standinConfig) ([]listenPort, error) {
	var out []listenPort
	if svc, ok := cfg.Services[name]; ok {
		if index < 0 || index >= len(svc.Ports) {
			return nil, fmt.Errorf("index %d out of range: %d ports configured in standin.yaml", index, len(svc.Ports))
		}
		out = append(out, listenPort{port: svc.Ports[index]})
	}
	if dir == "" {
		return out, nil
	}
	// OpenIM's own loading rules (IMENV_ overrides, comma-separated lists),
	// as the supervisor's config check applies them.
	d, err := openimconf.Load(dir, openimconf.Options{})
	if err != nil {
		return out, nil // no OpenIM config dir: standin.yaml alone
	}
	file := name + ".yml"
	if d.Files[file] == nil {
		return out, nil
	}
	var oc openimPorts
	if err := d.Decode(file, &oc); err != nil {
		return nil, err
	}
	list := oc.RPC.Ports
	if name == "openim-api" {
		list = oc.API.Ports
	}
	if index >= 0 && index < len(list) {
		p := list[index]
		if len(out) == 0 || out[0].port != p {
			out = append(out, listenPort{port: p, optional: true})
		}
	}
	return out, nil
}

// http2Preface starts every gRPC (HTTP/2) connection.
const http2Preface = "PRI * HTTP/2.0"

// serveSniffing serves ln: a connection that opens with the HTTP/2 preface
// gets the empty SETTINGS frame a gRPC server sends first (what the
// supervisor's grpc readiness check waits for) and is then held until the
// client closes it; any other is HTTP/1 for h.
func serveSniffing(ln net.Listener, h http.Handler) {
	httpConns := newChanListener(ln.Addr())
	go http.Serve(httpConns, h)
	for {
		c, err := ln.Accept()
		if err != nil {
			httpConns.Close()
			return
		}
		go func() {
			br := bufio.NewReader(c)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			head, err := br.Peek(len(http2Preface))
			_ = c.SetReadDeadline(time.Time{})
			if err != nil {
				c.Close()
				return
			}
			if bytes.Equal(head, []byte(http2Preface)) {
				// length 0, type 4 (SETTINGS), flags 0, stream 0
				_, _ = c.Write([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0})
				_, _ = io.Copy(io.Discard, br)
				c.Close()
				return
			}
			if !httpConns.put(&peekedConn{Conn: c, r: br}) {
				c.Close()
			}
		}()
	}
}

// peekedConn is a connection whose first bytes were read into r.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// chanListener hands connections accepted elsewhere to http.Serve.
type chanListener struct {
	addr net.Addr
	c    chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, c: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) put(c net.Conn) bool {
	select {
	case l.c <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
