package openimmodels

import (
	"log/slog"
	"testing"
)

type tw struct{ t *testing.T }

func (w tw) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func testLog(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(tw{t}, nil)) }
