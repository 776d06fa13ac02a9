package sqlload

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/klauspost/compress/s2"
)

// A table's statements travel from the reader to the worker that loads
// the table through a tableStream: in memory while the load's memory
// budget allows, then (from the first statement that does not fit, to the
// table's end) through the load's temporary file, compressed with S2. The
// reader so never waits for a busy worker: it reads ahead to the next
// tables, which the other workers load meanwhile, and a table is loaded in
// dump order by one connection. (Rows of one table sent from several
// connections did not load faster: InnoDB serialises inserts into one
// index, and the contention cost 60 % more server CPU.)
//
// The reader goes through the dump one table at a time, so what a table
// sends to the file is one contiguous segment, an S2 stream of its own: one
// file serves every table (a dump of a thousand small tables opens one
// file, not a thousand), and each worker reads its segment back with
// ReadAt while the reader appends.
type tableStream struct {
	mem chan queued // closed when the table ends (after its segment is complete)

	// Set by the reader; the worker reads them once mem is closed.
	start, end int64 // the table's segment of the file
	spilled    int64 // statements in it
	err        error // the segment could not be completed
}

// memBudget is what the statements waiting in memory may take, all tables
// together; beyond it they go to the temporary file.
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

// spillFile is a load's temporary file, created when first needed. Only
// the reader writes it (and what follows); workers read their segments.
type spillFile struct {
	dir      string
	f        *os.File
	unlinked bool  // removed from its directory while open (not on Windows)
	off      int64 // bytes written: where the next segment starts
	// One writer for every segment (one is written at a time): an S2
	// writer holds a 1 MiB block buffer.
	zw *s2.Writer
	bw *bufio.Writer
}

// spillHint says what to do when the temporary file cannot be written.
const spillHint = "set TMPDIR, or TMP on Windows, to a directory with room, or RESTORE_THREADS=1 to load without one"

func (s *spillFile) open() error {
	if s.f != nil {
		return nil
	}
	f, err := os.CreateTemp(s.dir, "cantina-ops-restore-*.tmp")
	if err != nil {
		return fmt.Errorf("read ahead to a temporary file (%s): %w", spillHint, err)
	}
	s.f = f
	// Where the system allows, the file has no name while it is used, so
	// that not even a killed process leaves rows behind.
	s.unlinked = runtime.GOOS != "windows" && os.Remove(f.Name()) == nil
	return nil
}

// remove closes and deletes the file, if any.
func (s *spillFile) remove() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if !s.unlinked {
		err = errors.Join(err, os.Remove(s.f.Name()))
	}
	s.f = nil
	return err
}

func (s *spillFile) fail(err error) error {
	return fmt.Errorf("read ahead to %s (%s): %w", s.f.Name(), spillHint, err)
}

// push hands q to the table's worker without waiting; q.stmt.Text may
// alias the scanner's buffer (push copies it).
func (t *tableStream) push(q queued, budget *memBudget, file *spillFile) error {
	if t.spilled == 0 && budget.take(int64(len(q.stmt.Text))) {
		m := q
		m.stmt.Text = bytes.Clone(q.stmt.Text)
		select {
		case t.mem <- m:
			return nil
		default:
			budget.give(int64(len(q.stmt.Text)))
		}
	}
	if t.spilled == 0 { // the table's segment starts
		if err := file.open(); err != nil {
			return err
		}
		t.start = file.off
		if file.zw == nil {
			file.zw = s2.NewWriter(file.f, s2.WriterConcurrency(1))
			file.bw = bufio.NewWriterSize(file.zw, 64<<10)
		} else {
			file.zw.Reset(file.f)
			file.bw.Reset(file.zw)
		}
	}
	var hdr [6 * binary.MaxVarintLen64]byte
	h := binary.AppendUvarint(hdr[:0], uint64(q.kind))
	h = binary.AppendVarint(h, q.span)
	h = binary.AppendVarint(h, q.stmt.Number)
	h = binary.AppendVarint(h, q.stmt.Line)
	h = binary.AppendVarint(h, q.stmt.Offset)
	h = binary.AppendUvarint(h, uint64(len(q.stmt.Text)))
	t.spilled++ // even if the write fails: close ends the segment
	if _, err := file.bw.Write(h); err != nil {
		return file.fail(err)
	}
	if _, err := file.bw.Write(q.stmt.Text); err != nil {
		return file.fail(err)
	}
	return nil
}

// close completes the table's segment, if any, and closes the stream: the
// worker has everything once mem is drained.
func (t *tableStream) close(file *spillFile) error {
	var err error
	if t.spilled > 0 {
		if err = file.bw.Flush(); err == nil {
			err = file.zw.Close() // ends the S2 stream, not the file
		}
		if err == nil {
			// Only the reader writes, so the file's offset is the
			// segment's end.
			file.off, err = file.f.Seek(0, io.SeekCurrent)
		}
		t.end = file.off
		if err != nil {
			err = file.fail(err)
			t.err = err
		}
	}
	close(t.mem)
	return err
}

// segment returns a reader of the table's statements in the file, or nil
// when it sent none there; an error when its segment is incomplete (the
// load fails with that error).
func (t *tableStream) segment(file *spillFile) (*spillReader, error) {
	if t.spilled == 0 || t.err != nil {
		return nil, t.err
	}
	sr := io.NewSectionReader(file.f, t.start, t.end-t.start)
	return &spillReader{br: bufio.NewReaderSize(s2.NewReader(sr), 64<<10), left: t.spilled}, nil
}

// spillReader reads back a spill file written by push.
type spillReader struct {
	br   *bufio.Reader
	left int64
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
