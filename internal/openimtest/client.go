package openimtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/openimsdk/protocol/auth"
)

// Client calls OpenIM 3.8.3's HTTP API (internal/api/router.go) as the admin
// user: every request is a POST of JSON with the headers operationID (a
// fresh random id) and token (the admin token, fetched on first use), and
// every answer is {errCode, errMsg, errDlt, data}. Requests and responses
// are OpenIM's own protocol types (github.com/openimsdk/protocol at the
// version 3.8.3 uses), encoded with encoding/json as OpenIM does.
type Client struct {
	BaseURL     string // http://127.0.0.1:PORT
	Secret      string // share.yml secret
	AdminUserID string // one of share.yml imAdminUserID
	HTTP        *http.Client

	mu    sync.Mutex
	token string
}

// NewClient returns a client for the openim-api at baseURL.
func NewClient(baseURL, secret, adminUserID string) *Client {
	return &Client{
		BaseURL: strings.TrimSuffix(baseURL, "/"), Secret: secret, AdminUserID: adminUserID,
		HTTP: &http.Client{Timeout: 30 * time.Second},
	}
}

// Some of OpenIM's error codes (github.com/openimsdk/tools/errs and
// pkg/common/servererrs); an errCode below 100 is a gRPC status code passed
// through, e.g. 14 (Unavailable) while an RPC service is not registered yet.
const (
	CodeUnavailable    = 14   // gRPC Unavailable: the RPC service is not reachable
	CodeInternal       = 500  // errs.ServerInternalError
	CodeArgs           = 1001 // errs.ArgsError
	CodeNoPermission   = 1002 // errs.NoPermissionError
	CodeRecordNotFound = 1004 // errs.RecordNotFoundError
	CodeUserIDExisted  = 1102 // servererrs.RegisteredAlreadyError
)

// APIError is an answer with errCode != 0.
type APIError struct {
	Path string // e.g. /user/user_register
	Code int    // errCode
	Msg  string // errMsg
	Dlt  string // errDlt: OpenIM's detail, often the wrapped cause
}

func (e *APIError) Error() string {
	// errMsg and errDlt may end in OpenIM's call stack (" | -> f() file:line
	// ..."): keep the cause.
	msg := cause(e.Msg)
	s := fmt.Sprintf("openim-api %s: errCode %d: %s", e.Path, e.Code, msg)
	if dlt := cause(e.Dlt); dlt != "" && dlt != msg {
		s += " (" + dlt + ")"
	}
	return s
}

func cause(s string) string {
	s, _, _ = strings.Cut(s, " -> ")
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "|"))
}

// IsCode reports whether err is an APIError with errCode code.
func IsCode(err error, code int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == code
}

// IsFerretDBLimit reports whether err is an answer in which OpenIM relays
// a NotImplemented of the FerretDB test server for findAndModify. Without
// test/ferretdb/patches, that is how OpenIM 3.8.3's version-log writes and
// message seq allocation fail on FerretDB v1. See the README, "Real OpenIM
// in tests".
func IsFerretDBLimit(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	text := e.Msg + " " + e.Dlt
	return strings.Contains(text, "(NotImplemented)") && strings.Contains(text, "findAndModify")
}

// response is OpenIM's envelope (github.com/openimsdk/tools/apiresp).
type response struct {
	ErrCode int             `json:"errCode"`
	ErrMsg  string          `json:"errMsg"`
	ErrDlt  string          `json:"errDlt"`
	Data    json.RawMessage `json:"data"`
}

// AdminToken returns the admin token (/auth/get_admin_token with the secret
// and AdminUserID), fetched on first use and kept.
func (c *Client) AdminToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	if tok != "" {
		return tok, nil
	}
	tok, err := c.newAdminToken(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
	return tok, nil
}

func (c *Client) newAdminToken(ctx context.Context) (string, error) {
	var resp auth.GetAdminTokenResp
	err := c.CallWithToken(ctx, "", "/auth/get_admin_token",
		&auth.GetAdminTokenReq{Secret: c.Secret, UserID: c.AdminUserID}, &resp)
	if err != nil {
		return "", err
	}
	if resp.Token == "" {
		return "", errors.New("openim-api /auth/get_admin_token: errCode 0 but no token")
	}
	return resp.Token, nil
}

// Call POSTs req to path as the admin and decodes the answer's data into
// resp (nil: ignore it). An errCode != 0 is an *APIError.
func (c *Client) Call(ctx context.Context, path string, req, resp any) error {
	tok, err := c.AdminToken(ctx)
	if err != nil {
		return err
	}
	return c.CallWithToken(ctx, tok, path, req, resp)
}

// CallWithToken is Call with the given token ("" sends none, as for
// /auth/get_admin_token).
func (c *Client) CallWithToken(ctx context.Context, token, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("openim-api %s: encode request: %w", path, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("operationID", operationID())
	if token != "" {
		hr.Header.Set("token", token)
	}
	hresp, err := c.HTTP.Do(hr)
	if err != nil {
		return fmt.Errorf("openim-api %s: %w", path, err)
	}
	defer hresp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(hresp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("openim-api %s: read answer: %w", path, err)
	}
	if hresp.StatusCode != http.StatusOK {
		return fmt.Errorf("openim-api %s: HTTP %s: %.300s", path, hresp.Status, raw)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("openim-api %s: answer is not OpenIM's envelope: %w: %.300s", path, err, raw)
	}
	if r.ErrCode != 0 {
		return &APIError{Path: path, Code: r.ErrCode, Msg: r.ErrMsg, Dlt: r.ErrDlt}
	}
	if resp == nil || len(r.Data) == 0 || string(r.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(r.Data, resp); err != nil {
		return fmt.Errorf("openim-api %s: decode data into %T: %w", path, resp, err)
	}
	return nil
}

func operationID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "openimtest-" + hex.EncodeToString(b)
}
