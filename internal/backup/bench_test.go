package backup_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/klauspost/pgzip"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/native"
	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// BenchmarkCompression compares the compressor Run uses (pgzip at
// backup.DefaultCompressionLevel) with `gzip -6`, the baseline of
// `mysqldump | gzip`, on a native dump of the demo POS data, in the same
// run. CANTINA_BENCH_SIZE sets the demo size (default 20MB):
//
//	go test -run '^$' -bench Compression -benchtime 3x ./internal/backup/
//
// Reported: size-ratio (ours/gzip's bytes; ≤ 1 means same or smaller) and
// time-ratio (ours/gzip's wall time).
func BenchmarkCompression(b *testing.B) {
	size := int64(20 << 20)
	if s := os.Getenv("CANTINA_BENCH_SIZE"); s != "" {
		n, err := demo.ParseSize(s)
		if err != nil {
			b.Fatalf("CANTINA_BENCH_SIZE: %v", err)
		}
		size = n
	}
	ctx := context.Background()
	srv, src := testenv.MySQLDatabase(b)
	if _, err := demo.Seed(ctx, srv.Open(b, src), demo.Options{Size: size, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := native.New(srv.Config(src), native.Options{}).Dump(ctx, &raw, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := exec.LookPath("gzip"); err != nil {
		b.Skip("no gzip binary")
	}
	b.ResetTimer()
	var ours, base time.Duration
	var oursBytes, baseBytes int
	for b.Loop() {
		start := time.Now()
		var out bytes.Buffer
		zw, err := pgzip.NewWriterLevel(&out, backup.DefaultCompressionLevel)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := zw.Write(raw.Bytes()); err != nil {
			b.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		oursBytes = out.Len()

		start = time.Now()
		cmd := exec.Command("gzip", "-6", "-c")
		cmd.Stdin = bytes.NewReader(raw.Bytes())
		gz, err := cmd.Output()
		if err != nil {
			b.Fatal(err)
		}
		base += time.Since(start)
		baseBytes = len(gz)
	}
	b.ReportMetric(float64(oursBytes)/float64(baseBytes), "size-ratio")
	b.ReportMetric(ours.Seconds()/base.Seconds(), "time-ratio")
	b.Logf("SQL %d bytes; pgzip -%d: %d bytes (%.1f%%) in %s; gzip -6: %d bytes (%.1f%%) in %s",
		raw.Len(), backup.DefaultCompressionLevel, oursBytes, 100*float64(oursBytes)/float64(raw.Len()), ours/time.Duration(b.N),
		baseBytes, 100*float64(baseBytes)/float64(raw.Len()), base/time.Duration(b.N))
}
