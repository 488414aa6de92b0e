package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAnswersLikeOpenIM: one port answers both of the shipped readiness
// checks the way OpenIM 3.8.3 does (internal/supervisor/probe.go): a gRPC
// client's preface gets a SETTINGS frame on stream 0, and POST
// /auth/parse_token gets a token error (errCode 1501) as JSON.
func TestAnswersLikeOpenIM(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go serveSniffing(ln, newMux(make(chan string, 1)))
	addr := ln.Addr().String()

	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	var hdr [9]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("no frame after the HTTP/2 preface: %v", err)
	}
	if hdr[3] != 4 || hdr[5]|hdr[6]|hdr[7]|hdr[8] != 0 {
		t.Fatalf("first frame % x, want SETTINGS (type 4) on stream 0", hdr)
	}

	resp, err := http.Post("http://"+addr+"/auth/parse_token", "application/json", strings.NewReader(`{"token":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		ErrCode *int `json:"errCode"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.ErrCode == nil {
		t.Fatalf("parse_token: %s, not an OpenIM answer (%v)", resp.Status, err)
	}
	if *ans.ErrCode != 1501 {
		t.Fatalf("parse_token errCode %d, want 1501 (OpenIM's TokenMalformedError)", *ans.ErrCode)
	}

	// A plain HTTP request on the same port still reaches the mux.
	r2, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %s", r2.Status)
	}
}
