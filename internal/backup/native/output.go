package native

import (
	"fmt"
	"io"
)

// flushBytes is the size at which the output buffer is handed to the writer.
const flushBytes = 1 << 20

// output buffers the dump text and counts what was written.
type output struct {
	w       io.Writer
	buf     []byte
	written int64
}

func (o *output) str(s string) { o.buf = append(o.buf, s...) }

// flush writes the buffer out and empties it, dropping a buffer a huge row
// made huge so memory goes back to normal.
func (o *output) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	n, err := o.w.Write(o.buf)
	o.written += int64(n)
	if err != nil {
		return fmt.Errorf("write dump: %w", err)
	}
	if cap(o.buf) > 8*flushBytes {
		o.buf = make([]byte, 0, 2*flushBytes)
	} else {
		o.buf = o.buf[:0]
	}
	return nil
}

func (o *output) maybeFlush() error {
	if len(o.buf) >= flushBytes {
		return o.flush()
	}
	return nil
}
