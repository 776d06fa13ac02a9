package sqlload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// writePOSDump writes a mysqldump-style script of one `sale` table with
// rows rows, in extended INSERTs of about 1 MiB as mysqldump writes them.
func writePOSDump(w io.Writer, rows int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprint(bw, "/*!40101 SET NAMES utf8mb4 */;\n/*!40103 SET TIME_ZONE='+00:00' */;\n",
		"/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n",
		"/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n",
		"/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n\n",
		"--\n-- Table structure for table `sale`\n--\n\nDROP TABLE IF EXISTS `sale`;\n",
		"CREATE TABLE `sale` (\n  `id` bigint(20) unsigned NOT NULL,\n  `product_id` int(11) NOT NULL,\n",
		"  `qty` int(11) NOT NULL,\n  `total` decimal(12,2) NOT NULL,\n  `note` varchar(100) NOT NULL,\n",
		"  `sold_at` datetime(6) NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `sold_at` (`sold_at`)\n",
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;\n\n",
		"LOCK TABLES `sale` WRITE;\n/*!40000 ALTER TABLE `sale` DISABLE KEYS */;\n")
	size := 0
	for i := 1; i <= rows; i++ {
		sep := ","
		if size == 0 {
			n, _ := fmt.Fprint(bw, "INSERT INTO `sale` VALUES ")
			size, sep = n, ""
		}
		n, _ := fmt.Fprintf(bw, "%s(%d,%d,%d,%d.%02d,'ticket %d; cajero \\'Ana\\' 😀 caf\u00e9','2024-%02d-%02d %02d:%02d:%02d.%06d')",
			sep, i, 1+i%50, 1+i%5, i%500, i%100, i, 1+i%12, 1+i%28, i%24, i%60, (i/60)%60, i%1000000)
		size += n
		if size >= 1<<20 || i == rows {
			fmt.Fprint(bw, ";\n")
			size = 0
		}
	}
	fmt.Fprint(bw, "/*!40000 ALTER TABLE `sale` ENABLE KEYS */;\nUNLOCK TABLES;\n",
		"/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n",
		"/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n\n-- Dump completed on 2026-01-01  0:00:00\n")
	return bw.Flush()
}

func TestScannerMemoryIsFlat(t *testing.T) {
	// 40 MB of extended INSERTs through the scanner: the buffer stays at
	// a few times the longest statement (1 MiB), whatever the input size.
	var one bytes.Buffer
	if err := writePOSDump(&one, 10_000); err != nil {
		t.Fatal(err)
	}
	readers := make([]io.Reader, 40)
	for i := range readers {
		readers[i] = bytes.NewReader(one.Bytes())
	}
	s := NewScanner(io.MultiReader(readers...))
	var n int64
	for s.Scan() {
		n++
	}
	if s.Err() != nil || s.Offset() != int64(40*one.Len()) {
		t.Fatalf("%d statements, %d of %d bytes, %v", n, s.Offset(), 40*one.Len(), s.Err())
	}
	if c := cap(s.buf); c > 4<<20 {
		t.Errorf("buffer grew to %d bytes for %d bytes of input", c, s.Offset())
	}
}

// BenchmarkScanner measures splitting alone, without a server.
func BenchmarkScanner(b *testing.B) {
	path := filepath.Join(b.TempDir(), "dump.sql")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writePOSDump(f, 300_000); err != nil {
		b.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		s := NewScanner(&chunkReader{b: data, n: 64 << 10})
		for s.Scan() {
		}
		if s.Err() != nil {
			b.Fatal(s.Err())
		}
	}
}

// BenchmarkLoad restores a ~30 MB generated POS script into MariaDB, with
// Load (ours) and with the mariadb client (the baseline), in the same run:
// compare their MB/s. Run with -benchtime=1x or 3x.
func BenchmarkLoad(b *testing.B) {
	srv := testenv.MySQL(b)
	path := filepath.Join(b.TempDir(), "dump.sql")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writePOSDump(f, 300_000); err != nil {
		b.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Close()
	b.Run("sqlload", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			b.StopTimer()
			_, name := testenv.MySQLDatabase(b)
			c := conn(b, srv, name)
			in, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := Load(context.Background(), c, in, nil); err != nil {
				b.Fatal(err)
			}
			in.Close()
		}
	})
	b.Run("mariadb-client", func(b *testing.B) {
		b.SetBytes(fi.Size())
		for b.Loop() {
			b.StopTimer()
			_, name := testenv.MySQLDatabase(b)
			in, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			runClient(b, srv, in, "mariadb", name)
			in.Close()
		}
	})
}
