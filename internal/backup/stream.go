package backup

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/klauspost/pgzip"
)

// DefaultCompressionLevel is the gzip level of new backups.
//
// The compressor is github.com/klauspost/pgzip: it deflates 1 MiB blocks on
// every core (GOMAXPROCS blocks in flight, a few MiB of memory) into one
// standard single-member gzip stream that `gunzip` and every gzip reader
// accept, and it runs beside the engine, so compression overlaps the dump
// instead of following it. Its deflate is klauspost/compress's, which at
// the same level is 4–5× faster than compress/flate. Measured on this
// project's machine (2 cores) on a 92 MB mysqldump of the demo POS data:
//
//	gzip -6 (GNU)            27.74 MB  5.2 s  (the `mysqldump | gzip` baseline)
//	pigz -6 -p2              27.77 MB  2.3 s
//	compress/gzip -6 (std)   26.57 MB  6.0–6.9 s
//	klauspost/gzip -6        27.69 MB  1.3 s  (one core)
//	pgzip -6, 1 MiB blocks   27.69 MB  0.7 s  (two cores)
//	pgzip -7                 26.97 MB  1.5–3.5 s
//
// Level 6 gives files within about 0.5–0.7 % of `gzip -6` (smaller on some
// dumps: 0.3 % on a 90 MB native dump — BenchmarkCompression —
// — and 1 % on a 14 MB single-row-insert dump) at about 7× its
// speed; level 7 buys 2.6 % for twice the CPU time, which on a small server
// is better left to the database. Decompression uses klauspost/compress's
// gzip reader (see verify.go).
const DefaultCompressionLevel = 6

// newCompressor returns a parallel gzip writer on w (1 MiB blocks,
// GOMAXPROCS of them in flight: pgzip's defaults).
func newCompressor(w io.Writer, level int) (*pgzip.Writer, error) {
	return pgzip.NewWriterLevel(w, level)
}

// countWriter counts what passes through to w.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// errWriter remembers the first error of w, so that a storage failure
// (ENOSPC) is reported as itself whatever the engine makes of it.
type errWriter struct {
	w   io.Writer
	mu  sync.Mutex
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		e.mu.Lock()
		if e.err == nil {
			e.err = err
		}
		e.mu.Unlock()
	}
	return n, err
}

func (e *errWriter) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// tailLen is how much of a stream's end is kept to find its last line.
const tailLen = 4096

// tailWriter keeps the last tailLen bytes written to it.
type tailWriter struct {
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if len(p) >= tailLen {
		t.buf = append(t.buf[:0], p[len(p)-tailLen:]...)
		return len(p), nil
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailLen {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailLen:]...)
	}
	return len(p), nil
}

// lastLine is the last non-empty line of what was written, without its
// line ending.
func (t *tailWriter) lastLine() string {
	b := bytes.TrimRight(t.buf, "\r\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return string(bytes.TrimRight(b, "\r"))
}

// endsWithTrailer reports whether the last line starts with TrailerPrefix.
func (t *tailWriter) endsWithTrailer() bool {
	return bytes.HasPrefix([]byte(t.lastLine()), []byte(TrailerPrefix))
}

// ctxReader fails reads once ctx is done, so a long read loop stops.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
