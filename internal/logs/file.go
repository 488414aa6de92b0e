package logs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// FileSink writes each instance to <dir>/<name>.<index>.log and rotates it
// at maxSize bytes, keeping maxFiles rotated files (<file>.1 newest ...
// <file>.N oldest). Files are opened on the first line.
//
// It does its own rotation rather than use lumberjack: lumberjack starts a
// goroutine per file that never ends and scans the whole log directory on
// every open, which at 1000 instances costs megabytes and an O(N²) start.
type FileSink struct {
	dir      string
	maxSize  int64
	maxFiles int

	mu       sync.Mutex
	files    map[string]*rotFile
	buf      []byte
	lastTime int64  // time of lastText
	lastText []byte // lastTime formatted
	onErr    func(error)
}

// MinFileSize is the smallest rotation size accepted.
const MinFileSize = 64 << 10

// NewFileSink creates dir if needed. onErr (may be nil) is told about the
// first write error of each file.
func NewFileSink(dir string, maxSize int64, maxFiles int, onErr func(error)) (*FileSink, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create log dir %s: %w", dir, err)
	}
	if maxSize < MinFileSize {
		maxSize = MinFileSize
	}
	if maxFiles < 0 {
		maxFiles = 0
	}
	return &FileSink{dir: dir, maxSize: maxSize, maxFiles: maxFiles, files: map[string]*rotFile{}, onErr: onErr}, nil
}

// Path returns the current log file of an instance.
func (s *FileSink) Path(process string, index int) string {
	return filepath.Join(s.dir, process+"."+strconv.Itoa(index)+".log")
}

// Write appends "<RFC3339 time> <stream> <text>\n".
func (s *FileSink) Write(l Line) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.file(l.Process, l.Index)
	s.buf = s.prefix(s.buf[:0], l.Time.UnixNano(), l.Stream)
	s.buf = append(s.buf, l.Text...)
	s.buf = append(s.buf, '\n')
	s.report(f, f.write(s.buf))
	s.shrink()
}

// WriteBatch appends every line of b, in writes of up to flushAt bytes.
func (s *FileSink) WriteBatch(b *Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.file(b.Process, b.Index)
	s.buf = s.buf[:0]
	var err error
	for i := 0; i < b.Len(); i++ {
		text := b.Text(i)
		// Write what is gathered before a line that would pass the chunk
		// size or the file's rotation size (rotation is per write).
		if n := len(s.buf) + len(text) + 40; len(s.buf) > 0 && (n > flushAt || f.size+int64(n) > f.max) {
			err = errors.Join(err, f.write(s.buf))
			s.buf = s.buf[:0]
		}
		s.buf = s.prefix(s.buf, b.UnixNano(i), b.Stream(i))
		s.buf = append(s.buf, text...)
		s.buf = append(s.buf, '\n')
	}
	if len(s.buf) > 0 {
		err = errors.Join(err, f.write(s.buf))
	}
	s.report(f, err)
	s.shrink()
}

// flushAt is the size of one write to a log file.
const flushAt = 128 << 10

func (s *FileSink) file(process string, index int) *rotFile {
	id := process + ":" + strconv.Itoa(index)
	f := s.files[id]
	if f == nil {
		f = &rotFile{path: s.Path(process, index), max: s.maxSize, keep: s.maxFiles}
		s.files[id] = f
	}
	return f
}

// prefix appends "<time> <stream> "; the time text is reused while the time
// does not change (lines read at once share it).
func (s *FileSink) prefix(dst []byte, t int64, st Stream) []byte {
	if t != s.lastTime || s.lastText == nil {
		s.lastTime = t
		s.lastText = time.Unix(0, t).AppendFormat(s.lastText[:0], "2006-01-02T15:04:05.000Z07:00")
	}
	dst = append(dst, s.lastText...)
	dst = append(dst, ' ')
	dst = append(dst, st.String()...)
	return append(dst, ' ')
}

func (s *FileSink) report(f *rotFile, err error) {
	switch {
	case err != nil && !f.failed:
		f.failed = true
		if s.onErr != nil {
			s.onErr(err)
		}
	case err == nil:
		f.failed = false
	}
}

func (s *FileSink) shrink() {
	if cap(s.buf) > 2*flushAt {
		s.buf = nil
	}
}

// CloseInstance closes the file of one instance (removed by a reload).
func (s *FileSink) CloseInstance(process string, index int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := process + ":" + strconv.Itoa(index)
	if f := s.files[id]; f != nil {
		f.close()
		delete(s.files, id)
	}
}

// Close closes every file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for id, f := range s.files {
		errs = append(errs, f.close())
		delete(s.files, id)
	}
	return errors.Join(errs...)
}

// rotFile is one size-rotated log file.
type rotFile struct {
	path   string
	max    int64
	keep   int
	f      *os.File
	size   int64
	failed bool // an error was reported; report again only after a success
}

func (r *rotFile) write(p []byte) error {
	if r.f == nil {
		f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("open log %s: %w", r.path, err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("stat log %s: %w", r.path, err)
		}
		r.f, r.size = f, st.Size()
	}
	if r.size > 0 && r.size+int64(len(p)) > r.max {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	if err != nil {
		return fmt.Errorf("write log %s: %w", r.path, err)
	}
	return nil
}

// rotate shifts path.(k) to path.(k+1), dropping the oldest, moves path to
// path.1 and reopens path empty.
func (r *rotFile) rotate() error {
	r.f.Close()
	r.f = nil
	if r.keep == 0 {
		if err := os.Remove(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate log %s: %w", r.path, err)
		}
	} else {
		os.Remove(r.path + "." + strconv.Itoa(r.keep))
		for k := r.keep - 1; k >= 1; k-- {
			err := os.Rename(r.path+"."+strconv.Itoa(k), r.path+"."+strconv.Itoa(k+1))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("rotate log %s: %w", r.path, err)
			}
		}
		if err := os.Rename(r.path, r.path+".1"); err != nil {
			return fmt.Errorf("rotate log %s: %w", r.path, err)
		}
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("open log %s: %w", r.path, err)
	}
	r.f, r.size = f, 0
	return nil
}

func (r *rotFile) close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
