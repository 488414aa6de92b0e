package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/config"
)

// probe runs the readiness checks until they all pass or ctx ends. A check
// that cannot connect yet is tried again after a short pause that grows to
// half a second; a gRPC check that connected waits for the server's answer
// without trying again (an OpenIM service's listener accepts before its
// gRPC server serves). Nothing runs once the instance is ready.
func probe(ctx context.Context, rd config.ResolvedReady) error {
	pause := 20 * time.Millisecond
	var last error
	for {
		last = checkAll(ctx, rd)
		if last == nil {
			return nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-t.C:
		}
		if pause < 500*time.Millisecond {
			pause *= 2
		}
	}
}

// checkAll runs every configured check once, in order.
func checkAll(ctx context.Context, rd config.ResolvedReady) error {
	short := func(f func(context.Context) error) error {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return f(c)
	}
	if rd.TCP != "" {
		if err := short(func(c context.Context) error { return checkTCP(c, rd.TCP) }); err != nil {
			return err
		}
	}
	if rd.GRPC != "" {
		if err := checkGRPC(ctx, rd.GRPC); err != nil {
			return err
		}
	}
	if rd.HTTP != "" {
		if err := short(func(c context.Context) error { return checkHTTP(c, rd.HTTP) }); err != nil {
			return err
		}
	}
	if rd.OpenIMAPI != "" {
		if err := short(func(c context.Context) error { return checkOpenIMAPI(c, rd.OpenIMAPI) }); err != nil {
			return err
		}
	}
	return nil
}

func checkTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

func checkHTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return errors.New("HTTP " + resp.Status)
	}
	return nil
}

// http2Preface is the client connection preface followed by an empty
// SETTINGS frame (RFC 9113 section 3.4).
var http2Preface = append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0)

// checkGRPC connects to addr and waits (until ctx ends) for the server's
// HTTP/2 SETTINGS frame, which a gRPC server sends as soon as it serves the
// connection. OpenIM's RPC services listen first, then connect to their
// databases, register in etcd, and only then serve: a connection made in
// between waits in the listen queue, and the answer comes when they serve.
func checkGRPC(ctx context.Context, addr string) error {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	c, err := d.DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := c.Write(http2Preface); err != nil {
		return fmt.Errorf("grpc %s: %w", addr, err)
	}
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("grpc %s: no answer yet (it does not serve)", addr)
		}
		return fmt.Errorf("grpc %s: %w", addr, err)
	}
	// length(3) type(1) flags(1) stream(4): a SETTINGS frame (type 4) on stream 0.
	if hdr[3] != 4 || hdr[5]|hdr[6]|hdr[7]|hdr[8] != 0 {
		return fmt.Errorf("grpc %s: answered %q, not an HTTP/2 (gRPC) server", addr, bytes.TrimRight(hdr[:], "\x00"))
	}
	return nil
}

// checkOpenIMAPI asks openim-api at base to parse a made-up token. The API
// passes it to openim-rpc-auth; an answer from there (a token error, 15xx)
// means the API, its discovery and the RPC layer work. While openim-rpc-auth
// cannot be reached the API answers with a gRPC code instead (14,
// unavailable).
func checkOpenIMAPI(ctx context.Context, base string) error {
	url := strings.TrimRight(base, "/") + "/auth/parse_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url,
		strings.NewReader(`{"token":"openim-supervisor-readiness-check"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("operationID", "openim-supervisor-ready-"+fmt.Sprint(time.Now().UnixNano()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var ans struct {
		ErrCode *int   `json:"errCode"`
		ErrMsg  string `json:"errMsg"`
		ErrDlt  string `json:"errDlt"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err != nil || ans.ErrCode == nil {
		return fmt.Errorf("%s: HTTP %s, not an OpenIM answer", url, resp.Status)
	}
	if c := *ans.ErrCode; c == 0 || (c >= 1500 && c < 1600) {
		return nil
	}
	return fmt.Errorf("%s: errCode %d %s %s", url, *ans.ErrCode, ans.ErrMsg, ans.ErrDlt)
}
