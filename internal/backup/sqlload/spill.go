package sqlload

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/s2"
)

// A table's statements travel from the reader to the worker that loads
// the table through a tableStream: in memory while the load's memory
// budget allows, then (from the first statement that does not fit, to the
// table's end) through a temporary file, compressed with S2. The reader so
// never waits for a busy worker: it reads ahead to the next tables, which
// the other workers load meanwhile, and a table is loaded in dump order by
// one connection. (Rows of one table sent from several connections did not
// load faster: InnoDB serialises inserts into one index, and the
// contention cost 60 % more server CPU.)
type tableStream struct {
	mem chan queued // closed when the table ends (after the spill is complete)

	// Reader side only.
	spill   *os.File
	zw      *s2.Writer
	bw      *bufio.Writer
	spilled int64 // statements in the spill file
}

// memBudget is what the statements waiting in memory may take, all tables
// together; beyond it they go to the tables' spill files.
type memBudget struct {
	limit int64
	used  atomic.Int64
}

func (b *memBudget) take(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *memBudget) give(n int64) { b.used.Add(-n) }

// spillFiles tracks every spill file of a load so that none outlives it.
type spillFiles struct {
	dir   string
	mu    sync.Mutex
	files map[*os.File]bool
	bytes atomic.Int64 // compressed bytes written, for Stats
}

func (s *spillFiles) create() (*os.File, error) {
	f, err := os.CreateTemp(s.dir, "cantina-ops-restore-*.spill")
	if err != nil {
		return nil, fmt.Errorf("read ahead to a temporary file (set TMPDIR, or TMP on Windows, to a directory with room, or RESTORE_THREADS=1 to load without one): %w", err)
	}
	s.mu.Lock()
	if s.files == nil {
		s.files = map[*os.File]bool{}
	}
	s.files[f] = true
	s.mu.Unlock()
	return f, nil
}

// remove closes and deletes f.
func (s *spillFiles) remove(f *os.File) error {
	s.mu.Lock()
	delete(s.files, f)
	s.mu.Unlock()
	return errors.Join(f.Close(), os.Remove(f.Name()))
}

// removeAll closes and deletes every file left.
func (s *spillFiles) removeAll() error {
	s.mu.Lock()
	files := s.files
	s.files = nil
	s.mu.Unlock()
	var errs []error
	for f := range files {
		errs = append(errs, f.Close(), os.Remove(f.Name()))
	}
	return errors.Join(errs...)
}

// push hands q to the table's worker without waiting; q.stmt.Text may
// alias the scanner's buffer (push copies it).
func (t *tableStream) push(q queued, budget *memBudget, files *spillFiles) error {
	if t.spill == nil && budget.take(int64(len(q.stmt.Text))) {
		m := q
		m.stmt.Text = bytes.Clone(q.stmt.Text)
		select {
		case t.mem <- m:
			return nil
		default:
			budget.give(int64(len(q.stmt.Text)))
		}
	}
	if t.spill == nil {
		f, err := files.create()
		if err != nil {
			return err
		}
		t.spill = f
		t.zw = s2.NewWriter(f, s2.WriterConcurrency(1))
		t.bw = bufio.NewWriterSize(t.zw, 64<<10)
	}
	var hdr [6 * binary.MaxVarintLen64]byte
	h := binary.AppendUvarint(hdr[:0], uint64(q.kind))
	h = binary.AppendVarint(h, q.span)
	h = binary.AppendVarint(h, q.stmt.Number)
	h = binary.AppendVarint(h, q.stmt.Line)
	h = binary.AppendVarint(h, q.stmt.Offset)
	h = binary.AppendUvarint(h, uint64(len(q.stmt.Text)))
	if _, err := t.bw.Write(h); err != nil {
		return spillError(t.spill, err)
	}
	if _, err := t.bw.Write(q.stmt.Text); err != nil {
		return spillError(t.spill, err)
	}
	t.spilled++
	return nil
}

func spillError(f *os.File, err error) error {
	return fmt.Errorf("read ahead to %s (set TMPDIR, or TMP on Windows, to a directory with room, or RESTORE_THREADS=1 to load without one): %w", f.Name(), err)
}

// end finishes the spill file, if any, and closes the stream: the worker
// has everything once mem is drained.
func (t *tableStream) end(files *spillFiles) error {
	var err error
	if t.spill != nil {
		if err = t.bw.Flush(); err == nil {
			err = t.zw.Close()
		}
		if err != nil {
			err = spillError(t.spill, err)
		} else if pos, serr := t.spill.Seek(0, io.SeekCurrent); serr == nil {
			files.bytes.Add(pos)
		}
	}
	close(t.mem)
	return err
}

// spillReader reads back a spill file written by push.
type spillReader struct {
	br   *bufio.Reader
	left int64
}

func newSpillReader(f *os.File, n int64) (*spillReader, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read back %s: %w", f.Name(), err)
	}
	return &spillReader{br: bufio.NewReaderSize(s2.NewReader(f), 64<<10), left: n}, nil
}

// next returns the next statement, or ok false after the last.
func (r *spillReader) next() (q queued, ok bool, err error) {
	if r.left == 0 {
		return q, false, nil
	}
	var vals [4]int64
	k, err := binary.ReadUvarint(r.br)
	for i := range vals {
		if err != nil {
			break
		}
		vals[i], err = binary.ReadVarint(r.br)
	}
	var n uint64
	if err == nil {
		n, err = binary.ReadUvarint(r.br)
	}
	if err == nil && n > 1<<31 {
		err = fmt.Errorf("statement of %d bytes", n)
	}
	if err != nil {
		return q, false, fmt.Errorf("read back a spilled statement: %w", err)
	}
	text := make([]byte, n)
	if _, err := io.ReadFull(r.br, text); err != nil {
		return q, false, fmt.Errorf("read back a spilled statement: %w", err)
	}
	r.left--
	q.kind = kind(k)
	q.span = vals[0]
	q.stmt = Statement{Number: vals[1], Line: vals[2], Offset: vals[3], Text: text}
	return q, true, nil
}
