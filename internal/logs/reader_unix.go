//go:build unix

package logs

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// readLines reads r into s. For an *os.File (a pipe) it waits for
// readability in the runtime poller without holding a buffer, then borrows a
// pooled buffer only for the read itself.
func readLines(r io.Reader, s *splitter) {
	f, ok := r.(*os.File)
	if !ok {
		readGeneric(r, s)
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		readGeneric(r, s)
		return
	}
	done := false
	for !done {
		err := rc.Read(func(fd uintptr) bool {
			bp := s.q.c.bufs.Get().(*[]byte)
			defer s.q.c.bufs.Put(bp)
			for {
				n, err := syscall.Read(int(fd), *bp)
				if n > 0 {
					s.feed((*bp)[:n])
					if n == len(*bp) {
						continue // more may be waiting
					}
					return true
				}
				if err == syscall.EINTR {
					continue
				}
				if err == syscall.EAGAIN {
					return false // park in the poller until readable
				}
				done = true // EOF (n == 0) or a real error
				return true
			}
		})
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				readGeneric(r, s)
			}
			return
		}
	}
}
