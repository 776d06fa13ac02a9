package native

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// mustExec runs statements on q, failing the test on the first error.
func mustExec(tb testing.TB, q Querier, stmts ...string) {
	tb.Helper()
	for _, s := range stmts {
		if _, err := q.ExecContext(context.Background(), s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
}

// conn takes one connection of db for session settings; closed at cleanup.
func conn(tb testing.TB, db *sql.DB) *sql.Conn {
	tb.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		tb.Fatalf("connection: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// dump runs the native engine on database name and returns the SQL.
func dump(tb testing.TB, srv testenv.MySQLServer, name string, opts Options) ([]byte, backup.DumpInfo) {
	tb.Helper()
	var buf bytes.Buffer
	info, err := New(srv.Config(name), opts).Dump(context.Background(), &buf, nil)
	if err != nil {
		tb.Fatalf("dump %s: %v", name, err)
	}
	return buf.Bytes(), info
}

// loadWithClient loads a dump into database name with the real mariadb
// client, the password in the environment.
func loadWithClient(tb testing.TB, srv testenv.MySQLServer, name string, sqlText []byte, flags ...string) {
	tb.Helper()
	args := append([]string{"--no-defaults", "--batch", "-h", srv.Host, "-P", strconv.Itoa(srv.Port), "-u", srv.User}, flags...)
	cmd := exec.Command("mariadb", append(args, name)...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+srv.Password)
	cmd.Stdin = bytes.NewReader(sqlText)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("mariadb < dump: %v\n%s", err, out)
	}
}

// queryStrings returns all rows of a query as strings (NULL as "<NULL>").
func queryStrings(tb testing.TB, q Querier, query string) [][]string {
	tb.Helper()
	rows, err := q.QueryContext(context.Background(), query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
			if !v.Valid {
				row[i] = "<NULL>"
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return out
}

// queryInt returns a query's single integer.
func queryInt(tb testing.TB, q Querier, query string) int64 {
	tb.Helper()
	r := queryStrings(tb, q, query)
	if len(r) != 1 || len(r[0]) != 1 {
		tb.Fatalf("%s: got %v", query, r)
	}
	n, err := strconv.ParseInt(r[0][0], 10, 64)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// stripVolatile drops the dump lines that differ between two dumps of the
// same data: the database name, the snapshot time and the trailer's time.
func stripVolatile(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(line, "-- Database: ") || strings.HasPrefix(line, "-- Snapshot at: ") ||
			strings.HasPrefix(line, backup.TrailerPrefix) {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}
