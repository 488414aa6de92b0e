package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FileSink writes each instance to <dir>/<name>.<index>.log, rotating at
// maxSize bytes (rounded up to whole MiB, lumberjack's unit) and keeping
// maxFiles rotated files. Files are opened on the first line.
type FileSink struct {
	dir      string
	maxMiB   int
	maxFiles int

	mu    sync.Mutex
	files map[string]*lumberjack.Logger
	buf   []byte
	err   error // first write error, reported once
	onErr func(error)
}

// NewFileSink creates dir if needed. onErr (may be nil) is told about the
// first write error of each file.
func NewFileSink(dir string, maxSize int64, maxFiles int, onErr func(error)) (*FileSink, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create log dir %s: %w", dir, err)
	}
	mib := int((maxSize + (1<<20 - 1)) >> 20)
	if mib < 1 {
		mib = 1
	}
	return &FileSink{dir: dir, maxMiB: mib, maxFiles: maxFiles, files: map[string]*lumberjack.Logger{}, onErr: onErr}, nil
}

// Path returns the current log file of an instance.
func (s *FileSink) Path(process string, index int) string {
	return filepath.Join(s.dir, process+"."+strconv.Itoa(index)+".log")
}

// Write appends "<RFC3339 time> <stream> <text>\n".
func (s *FileSink) Write(l Line) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := l.ID()
	f := s.files[id]
	if f == nil {
		f = &lumberjack.Logger{Filename: s.Path(l.Process, l.Index), MaxSize: s.maxMiB, MaxBackups: s.maxFiles}
		s.files[id] = f
	}
	s.buf = l.Time.AppendFormat(s.buf[:0], "2006-01-02T15:04:05.000Z07:00")
	s.buf = append(s.buf, ' ')
	s.buf = append(s.buf, l.Stream.String()...)
	s.buf = append(s.buf, ' ')
	s.buf = append(s.buf, l.Text...)
	s.buf = append(s.buf, '\n')
	if _, err := f.Write(s.buf); err != nil && s.err == nil {
		s.err = err
		if s.onErr != nil {
			s.onErr(fmt.Errorf("write %s: %w", f.Filename, err))
		}
	}
	if cap(s.buf) > 8192 {
		s.buf = nil
	}
}

// CloseInstance closes the file of one instance (removed by a reload).
func (s *FileSink) CloseInstance(process string, index int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := process + ":" + strconv.Itoa(index)
	if f := s.files[id]; f != nil {
		f.Close()
		delete(s.files, id)
	}
}

// Close closes every file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for id, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.files, id)
	}
	return first
}
