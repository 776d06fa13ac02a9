package sqlload

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// parallelOptions loads on threads connections of srv's database name,
// every statement through the read-ahead file in dir.
func parallelOptions(t *testing.T, srv testenv.MySQLServer, name string, threads int, dir string) ParallelOptions {
	db := srv.Open(t, name)
	return ParallelOptions{Threads: threads, MemoryBudget: 1, TempDir: dir,
		Open: func(ctx context.Context) (*sql.Conn, error) { return db.Conn(ctx) }}
}

// TestParallelLoadDataLosesNoRow: LOAD DATA LOCAL skips a duplicate key
// with a warning where an INSERT fails; the load must fail instead, name
// the statement, quote no value, and leave no read-ahead file behind.
func TestParallelLoadDataLosesNoRow(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	script := NativeHeader + "test)\nSET NAMES utf8mb4;\n" +
		"CREATE TABLE `a` (\n  `id` int(11) NOT NULL,\n  `s` varchar(20) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n" +
		"INSERT INTO `a` (`id`,`s`) VALUES (1,'one'),(2,'two');\n" +
		"INSERT INTO `a` (`id`,`s`) VALUES (3,'three'),(2,'SECRET-dup');\n" +
		"CREATE TABLE `b` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n" +
		"INSERT INTO `b` (`id`) VALUES (1);\n"
	dir := t.TempDir()
	st, err := parallelOptions(t, srv, name, 2, dir).Load(context.Background(), conn(t, srv, name), strings.NewReader(script), nil)
	var se *StatementError
	if !errors.As(err, &se) || se.Number != 4 || se.Line != 9 {
		t.Fatalf("load: %v (%+v), want statement 4 (line 9) refused", err, st)
	}
	if msg := err.Error(); !strings.Contains(msg, "as LOAD DATA LOCAL INFILE: 1 of its 2 rows were loaded") || strings.Contains(msg, "SECRET") {
		t.Errorf("error %q: want the row count, and no value", msg)
	}
	// b's row is on the other connection and may be loaded before a's
	// failure stops the load.
	if st.LoadDataRows < 2 || st.LoadDataRows > 3 || st.SpillBytes == 0 {
		t.Errorf("stats %+v: want the first INSERT's 2 rows (and perhaps b's) as LOAD DATA, read back from the file", st)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("read-ahead files left behind: %v", left)
	}
}
