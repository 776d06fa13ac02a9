package native

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// countingDiscard counts what it is given.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// BenchmarkDump measures SQL generation (no compression): MB/s is SQL
// text produced. It dumps the existing database CANTINA_BENCH_DB if set,
// else a demo database of CANTINA_BENCH_SIZE (default 20MB) seeded first.
func BenchmarkDump(b *testing.B) {
	srv := testenv.MySQL(b)
	name := os.Getenv("CANTINA_BENCH_DB")
	if name == "" {
		var db string
		srv, db = testenv.MySQLDatabase(b)
		size := int64(20 << 20)
		if s := os.Getenv("CANTINA_BENCH_SIZE"); s != "" {
			n, err := demo.ParseSize(s)
			if err != nil {
				b.Fatalf("CANTINA_BENCH_SIZE: %v", err)
			}
			size = n
		}
		if _, err := demo.Seed(context.Background(), srv.Open(b, db), demo.Options{Size: size, Seed: 1}); err != nil {
			b.Fatalf("seed: %v", err)
		}
		name = db
	}
	e := New(srv.Config(name), Options{})
	var w countingDiscard
	if _, err := e.Dump(context.Background(), &w, nil); err != nil { // warm the buffer pool
		b.Fatalf("dump: %v", err)
	}
	b.SetBytes(w.n)
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Dump(context.Background(), io.Discard, nil); err != nil {
			b.Fatalf("dump: %v", err)
		}
	}
	b.StopTimer()
	// The server's CPU is not counted: on a small machine it competes
	// with ours and with the compressor, so this is the number to shrink.
	b.ReportMetric((processCPU()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}
