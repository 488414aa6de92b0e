//go:build !unix

package logs

import "io"

func readLines(r io.Reader, s *splitter) { readGeneric(r, s) }
