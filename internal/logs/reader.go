package logs

import "io"

// readGeneric reads with a small buffer (held while blocked).
func readGeneric(r io.Reader, s *splitter) {
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			s.feed(buf[:n])
		}
		if err != nil {
			return
		}
	}
}
