package sqlload

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
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

// TestParallelLocalInfileOff: a server with local_infile=OFF, or one that
// turns it off after the load began (it is global, so a server of the
// test's own), gets every row as an INSERT, and loses none.
func TestParallelLocalInfileOff(t *testing.T) {
	srv := testenv.PrivateMySQL(t, "--local-infile=0")
	admin := srv.Open(t, "")
	var script strings.Builder
	script.WriteString(NativeHeader + "test)\nSET NAMES utf8mb4;\n")
	for _, tbl := range []string{"a", "b", "c"} {
		script.WriteString("CREATE TABLE `" + tbl + "` (\n  `id` int(11) NOT NULL,\n  `s` varchar(20) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n")
		for i := range 3 {
			fmt.Fprintf(&script, "INSERT INTO `%s` (`id`,`s`) VALUES (%d,'x\\ty'),(%d,NULL);\n", tbl, 2*i, 2*i+1)
		}
	}
	for _, tc := range []struct {
		name    string
		partWay bool
	}{{"off from the start", false}, {"turned off part-way", true}} {
		t.Run(tc.name, func(t *testing.T) {
			name := "t_" + strings.ReplaceAll(tc.name, " ", "_")
			testenv.ExecAll(t, admin, "CREATE DATABASE `"+name+"`")
			o := parallelOptions(t, srv, name, 2, t.TempDir())
			if tc.partWay {
				// On when the load asks, off before its first statement.
				testenv.ExecAll(t, admin, "SET GLOBAL local_infile = 1")
				open, once := o.Open, sync.Once{}
				o.Open = func(ctx context.Context) (*sql.Conn, error) {
					var err error
					once.Do(func() { _, err = admin.ExecContext(ctx, "SET GLOBAL local_infile = 0") })
					if err != nil {
						return nil, err
					}
					return open(ctx)
				}
			}
			st, err := o.Load(context.Background(), conn(t, srv, name), strings.NewReader(script.String()), nil)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if !st.LocalInfileOff || st.LoadDataRows != 0 || st.Rows != 18 || st.Tables != 3 {
				t.Errorf("stats %+v: want local_infile off, 18 rows in 3 tables, none as LOAD DATA", st)
			}
			db := srv.Open(t, name)
			for _, tbl := range []string{"a", "b", "c"} {
				var n, tabbed, null int
				if err := db.QueryRow("SELECT COUNT(*), SUM(s = 'x\\ty'), SUM(s IS NULL) FROM `"+tbl+"`").Scan(&n, &tabbed, &null); err != nil {
					t.Fatal(err)
				}
				if n != 6 || tabbed != 3 || null != 3 {
					t.Errorf("%s: %d rows, %d 'x<TAB>y', %d NULL; want 6, 3, 3", tbl, n, tabbed, null)
				}
			}
		})
	}
}
