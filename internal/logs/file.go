package logs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
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

	mu    sync.Mutex // guards files; each file has its own lock
	files map[string]*rotFile
	onErr func(error)
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

// Write appends one record, "<time> <stream> <text>\n" (AppendPrefix).
func (s *FileSink) Write(l Line) {
	f := s.file(l.Process, l.Index)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = AppendPrefix(f.buf[:0], l.Time.UnixNano(), l.Stream)
	f.buf = append(f.buf, l.Text...)
	f.buf = append(f.buf, '\n')
	s.report(f, f.write(f.buf))
	if cap(f.buf) > 4<<10 {
		f.buf = nil // a long line's buffer is not kept
	}
}

// WriteBatch appends the records of b as they are, with one write unless
// the file must be rotated within the batch (rotation is between writes, so
// a file passes its size limit only by a single line longer than it).
func (s *FileSink) WriteBatch(b *Batch) {
	f := s.file(b.Process, b.Index)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.open(); err != nil {
		s.report(f, err)
		return
	}
	var err error
	for from := 0; from < b.Len(); {
		room := f.max - f.size
		if room <= 0 {
			room = f.max // the write rotates first
		}
		to := b.Cut(from, int(room))
		err = errors.Join(err, f.write(b.Records(from, to)))
		from = to
	}
	s.report(f, err)
}

func (s *FileSink) file(process string, index int) *rotFile {
	id := process + ":" + strconv.Itoa(index)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[id]
	if f == nil {
		f = &rotFile{path: s.Path(process, index), max: s.maxSize, keep: s.maxFiles}
		s.files[id] = f
	}
	return f
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

// CloseInstance closes the file of one instance (removed by a reload).
func (s *FileSink) CloseInstance(process string, index int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := process + ":" + strconv.Itoa(index)
	if f := s.files[id]; f != nil {
		f.retire()
		delete(s.files, id)
	}
}

// Close closes every file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for id, f := range s.files {
		errs = append(errs, f.retire())
		delete(s.files, id)
	}
	return errors.Join(errs...)
}

// rotFile is one size-rotated log file. Its fields after mu are guarded
// by it.
type rotFile struct {
	mu     sync.Mutex
	buf    []byte // one record (Write)
	path   string
	max    int64
	keep   int
	f      *os.File
	size   int64
	failed bool // an error was reported; report again only after a success
	gone   bool // retired: no more writes
}

func (r *rotFile) write(p []byte) error {
	if err := r.open(); err != nil {
		return err
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

// open opens the file (appending) unless it is open, and learns its size.
func (r *rotFile) open() error {
	if r.gone {
		return fmt.Errorf("log %s: closed", r.path)
	}
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

// retire closes the file for good: a writer that still holds r writes
// nothing (the sink forgot the instance, or is closed).
func (r *rotFile) retire() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone = true
	return r.close()
}

func (r *rotFile) close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
