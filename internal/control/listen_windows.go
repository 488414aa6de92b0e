//go:build windows

package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// PipeName is the control channel on Windows.
const PipeName = `\\.\pipe\openim-supervisor`

// SocketMode is unused on Windows (the pipe has a security descriptor).
const SocketMode fs.FileMode = 0o660

// pipeSDDL allows SYSTEM and the Administrators group full access, nobody else.
const pipeSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

func pipeName(path string) string {
	if strings.HasPrefix(path, `\\.\pipe\`) {
		return path
	}
	return PipeName
}

// Listen creates the control named pipe (PipeName unless path is a pipe
// name). The group argument is ignored on Windows.
func Listen(ctx context.Context, path, group string) (net.Listener, error) {
	name := pipeName(path)
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if conn, err := winio.DialPipeContext(dctx, name); err == nil {
		conn.Close()
		return nil, fmt.Errorf("control pipe %s: %w", name, ErrAlreadyRunning)
	}
	ln, err := winio.ListenPipe(name, &winio.PipeConfig{SecurityDescriptor: pipeSDDL})
	if err != nil {
		return nil, fmt.Errorf("control pipe %s: %w", name, err)
	}
	return ln, nil
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, pipeName(path))
}

func classifyDialError(err error) error {
	switch {
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND), errors.Is(err, fs.ErrNotExist):
		return ErrNotRunning
	case errors.Is(err, windows.ERROR_ACCESS_DENIED), errors.Is(err, fs.ErrPermission):
		return ErrPermission
	}
	return nil
}
