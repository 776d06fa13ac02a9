package sqlload

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"testing"
)

// TestSpillSegments: every table's statements come back from the
// read-ahead file whole and in order, and a table's segment, once read,
// is given back to the file system (on Linux), so that the file takes no
// more on disk than what is still to load.
func TestSpillSegments(t *testing.T) {
	file := &spillFile{dir: t.TempDir()}
	defer file.remove()
	var budget memBudget // no memory: every statement to the file
	streams := make([]*tableStream, 3)
	want := make([][]string, len(streams))
	for i := range streams {
		streams[i] = &tableStream{mem: make(chan queued)}
		for n := range 200 {
			// Incompressible: each segment takes real blocks.
			b := make([]byte, 512)
			_, _ = rand.Read(b)
			text := "INSERT INTO t VALUES ('" + hex.EncodeToString(b) + "')"
			want[i] = append(want[i], text)
			q := queued{stmt: Statement{Text: []byte(text), Number: int64(n + 1)}, kind: kindInsert, span: int64(len(text))}
			if err := streams[i].push(q, &budget, file); err != nil {
				t.Fatal(err)
			}
		}
		if err := streams[i].close(file); err != nil {
			t.Fatal(err)
		}
	}
	total := file.off
	if file.peak != total || file.held.Load() != total {
		t.Fatalf("held %d, peak %d; want all %d bytes written", file.held.Load(), file.peak, total)
	}
	for i, s := range streams {
		r, err := s.segment(file)
		if err != nil || r == nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		for n, w := range want[i] {
			q, ok, err := r.next()
			if err != nil || !ok || !bytes.Equal(q.stmt.Text, []byte(w)) || q.stmt.Number != int64(n+1) {
				t.Fatalf("table %d statement %d: %v %v %.40q", i, n, ok, err, q.stmt.Text)
			}
		}
		if _, ok, err := r.next(); ok || err != nil {
			t.Fatalf("table %d: a statement after the last (%v)", i, err)
		}
		s.release(file)
	}
	if held := file.held.Load(); held != 0 && runtime.GOOS == "linux" {
		t.Errorf("after every table was read: %d bytes held of %d written; want the segments given back", held, total)
	}
	if onDisk, ok := diskBytes(file.f); ok && onDisk >= total/2 {
		t.Errorf("after every table was read: %d bytes on disk of %d written; want the segments given back", onDisk, total)
	}
	if fi, err := file.f.Stat(); err != nil || fi.Size() != total {
		t.Errorf("file size %v (%v), want %d kept", fi.Size(), err, total)
	}
}
