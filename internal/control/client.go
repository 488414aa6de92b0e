package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/openim-supervisor/openim-supervisor/internal/supervisor"
)

// Client talks to a running supervisor. The zero Timeout means no limit
// other than the caller's context.
type Client struct {
	Path string // socket path (pipe name on Windows)
}

// NewClient returns a client for the socket at path.
func NewClient(path string) *Client { return &Client{Path: path} }

// DialError says why the client could not reach the supervisor; it wraps
// ErrNotRunning or ErrPermission when the cause is one of those.
type DialError struct {
	Path  string
	Kind  error // ErrNotRunning, ErrPermission or nil
	Cause error
}

func (e *DialError) Error() string {
	if e.Kind != nil {
		return fmt.Sprintf("connect %s: %v: %v", e.Path, e.Kind, e.Cause)
	}
	return fmt.Sprintf("connect %s: %v", e.Path, e.Cause)
}

func (e *DialError) Unwrap() []error {
	if e.Kind != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Cause}
}

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	conn, err := dial(ctx, c.Path)
	if err != nil {
		return nil, &DialError{Path: c.Path, Kind: classifyDialError(err), Cause: err}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	context.AfterFunc(ctx, func() { conn.Close() })
	return conn, nil
}

// Do sends one request and returns the server's answer. A server-side
// failure is returned as *RemoteError.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	req.Progress = false
	return c.DoProgress(ctx, req, nil)
}

// DoProgress is Do that asks for progress (when progress is not nil) and
// calls progress for each step the server reports before its answer.
func (c *Client) DoProgress(ctx context.Context, req Request, progress func(Progress)) (*Response, error) {
	req.Progress = progress != nil
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, c.ioErr(ctx, "send request", err)
	}
	dec := json.NewDecoder(bufio.NewReader(conn))
	for {
		var resp Response
		if err := dec.Decode(&resp); err != nil {
			return nil, c.ioErr(ctx, "read answer", err)
		}
		if resp.Progress != nil {
			if progress != nil {
				progress(*resp.Progress)
			}
			continue
		}
		if resp.Error != "" {
			return &resp, &RemoteError{Code: resp.Code, Msg: resp.Error}
		}
		return &resp, nil
	}
}

func (c *Client) ioErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s on %s: %w", what, c.Path, ctx.Err())
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s on %s: the supervisor closed the connection (is it stopping?)", what, c.Path)
	}
	return fmt.Errorf("%s on %s: %w", what, c.Path, err)
}

// Ping checks that the supervisor answers and its loop is alive.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Do(ctx, Request{Op: OpPing})
	return err
}

// Status returns the supervisor's status: of the instances targets select
// (all, NAME, NAME:INDEX, globs), or of every instance when none are given.
func (c *Client) Status(ctx context.Context, targets ...string) (*StatusReply, error) {
	resp, err := c.Do(ctx, Request{Op: OpStatus, Targets: targets})
	if err != nil {
		return nil, err
	}
	if resp.Status == nil {
		return nil, fmt.Errorf("status from %s: empty answer", c.Path)
	}
	return resp.Status, nil
}

// Reload asks the supervisor to re-read its config file (changed instances
// restart one at a time).
func (c *Client) Reload(ctx context.Context) (*supervisor.ReloadResult, error) {
	return c.ReloadWith(ctx, false)
}

// ReloadWith is Reload; allAtOnce restarts the changed instances together.
func (c *Client) ReloadWith(ctx context.Context, allAtOnce bool) (*supervisor.ReloadResult, error) {
	resp, err := c.Do(ctx, Request{Op: OpReload, AllAtOnce: allAtOnce})
	if err != nil {
		return nil, err
	}
	if resp.Reload == nil {
		return nil, fmt.Errorf("reload from %s: empty answer", c.Path)
	}
	return resp.Reload, nil
}

// Logs streams the lines the server sends to fn until the stream ends, ctx
// ends (nil is returned then when following) or fn fails.
func (c *Client) Logs(ctx context.Context, req Request, fn func(LogLine) error) error {
	req.Op = OpLogs
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return c.ioErr(ctx, "send request", err)
	}
	dec := json.NewDecoder(bufio.NewReader(conn))
	for {
		var resp Response
		if err := dec.Decode(&resp); err != nil {
			if req.Follow && ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) && req.Follow {
				return errors.New("the supervisor closed the log stream (is it stopping?)")
			}
			return c.ioErr(ctx, "read logs", err)
		}
		switch {
		case resp.Error != "":
			return &RemoteError{Code: resp.Code, Msg: resp.Error}
		case resp.End:
			return nil
		case resp.Line != nil:
			if err := fn(*resp.Line); err != nil {
				return err
			}
		}
	}
}

// WaitReady waits until the supervisor answers and reports ready, or ctx ends.
// It is for scripts and tests; it re-asks every interval (the supervisor may
// not even have created its socket yet).
func (c *Client) WaitReady(ctx context.Context, interval time.Duration) (*StatusReply, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := c.Status(ctx)
		if err == nil && st.Supervisor.Ready {
			return st, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New("not ready")
			}
			return nil, fmt.Errorf("wait for the supervisor at %s: %w (last: %v)", c.Path, ctx.Err(), err)
		case <-t.C:
		}
	}
}
