package sqlload

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// clientDefaults writes an option file for the mysql/mariadb client
// programs with the test server's account, so the password never appears
// in argv.
func clientDefaults(tb testing.TB, srv testenv.MySQLServer) string {
	tb.Helper()
	quote := func(s string) string {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
		return `"` + r.Replace(s) + `"`
	}
	body := fmt.Sprintf("[client]\nuser=%s\npassword=%s\nhost=%s\nport=%d\nprotocol=tcp\n",
		quote(srv.User), quote(srv.Password), quote(srv.Host), srv.Port)
	path := filepath.Join(tb.TempDir(), "client.cnf")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// runClient runs a client program (mariadb, mariadb-dump) with the test
// account and returns its standard output.
func runClient(tb testing.TB, srv testenv.MySQLServer, stdin io.Reader, prog string, args ...string) []byte {
	tb.Helper()
	path, err := exec.LookPath(prog)
	if err != nil {
		tb.Fatalf("%s is not installed: %v", prog, err)
	}
	cmd := exec.Command(path, append([]string{"--defaults-file=" + clientDefaults(tb, srv)}, args...)...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v: %s", prog, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// loadFixture fills database name from testdata/fixture.sql with the
// mariadb client (keeping comments), independently of the code under test.
func loadFixture(tb testing.TB, srv testenv.MySQLServer, name string) {
	tb.Helper()
	f, err := os.Open("testdata/fixture.sql")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	runClient(tb, srv, f, "mariadb", "--comments", "--default-character-set=utf8mb4", name)
}

// conn returns a connection to database name, closed at cleanup.
func conn(tb testing.TB, srv testenv.MySQLServer, name string) *sql.Conn {
	tb.Helper()
	c, err := srv.Open(tb, name).Conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// rows returns a query's result as strings, without the named columns.
func rows(tb testing.TB, db *sql.DB, skip []string, query string) [][]string {
	tb.Helper()
	rs, err := db.Query(query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out [][]string
	for rs.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		var row []string
		for i, v := range vals {
			if !slices.Contains(skip, cols[i]) {
				row = append(row, cols[i]+"="+string(v))
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// snapshot describes every object of a database: each base table's
// CHECKSUM TABLE, row count and SHOW CREATE TABLE; each view's, trigger's,
// routine's and event's SHOW CREATE (without the trigger's creation time);
// the database's default collation. skip names more columns to leave out.
func snapshot(tb testing.TB, db *sql.DB, skip ...string) map[string]string {
	tb.Helper()
	skip = append(skip, "Created")
	snap := map[string]string{}
	one := func(key, query string) {
		var parts []string
		for _, r := range rows(tb, db, skip, query) {
			parts = append(parts, strings.Join(r, "\n"))
		}
		snap[key] = strings.Join(parts, "\n")
	}
	one("database", "SELECT default_character_set_name, default_collation_name FROM information_schema.schemata WHERE schema_name = DATABASE()")
	q := func(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }
	for _, r := range rows(tb, db, nil, "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = DATABASE()") {
		name, typ := strings.TrimPrefix(r[0], "table_name="), strings.TrimPrefix(r[1], "table_type=")
		if typ == "VIEW" {
			one("view "+name, "SHOW CREATE VIEW "+q(name))
			continue
		}
		one("table "+name, "SHOW CREATE TABLE "+q(name))
		one("checksum "+name, "CHECKSUM TABLE "+q(name))
		one("count "+name, "SELECT COUNT(*) FROM "+q(name))
	}
	for _, r := range rows(tb, db, nil, "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE()") {
		name := strings.TrimPrefix(r[0], "trigger_name=")
		one("trigger "+name, "SHOW CREATE TRIGGER "+q(name))
	}
	for _, r := range rows(tb, db, nil, "SELECT routine_type, routine_name FROM information_schema.routines WHERE routine_schema = DATABASE()") {
		typ, name := strings.TrimPrefix(r[0], "routine_type="), strings.TrimPrefix(r[1], "routine_name=")
		one(strings.ToLower(typ)+" "+name, "SHOW CREATE "+typ+" "+q(name))
	}
	for _, r := range rows(tb, db, nil, "SELECT event_name FROM information_schema.events WHERE event_schema = DATABASE()") {
		name := strings.TrimPrefix(r[0], "event_name=")
		one("event "+name, "SHOW CREATE EVENT "+q(name))
	}
	return snap
}

// sameSnapshot fails the test where two snapshots differ. Database names
// inside definitions (CHECKSUM TABLE's Table column) are made neutral.
func sameSnapshot(tb testing.TB, want, got map[string]string, wantDB, gotDB string) {
	tb.Helper()
	if len(want) < 10 {
		tb.Fatalf("source snapshot too small: %v", want)
	}
	for k, w := range want {
		g, ok := got[k]
		w, g = strings.ReplaceAll(w, wantDB, "DB"), strings.ReplaceAll(g, gotDB, "DB")
		switch {
		case !ok:
			tb.Errorf("%s is missing from the restored database", k)
		case w != g:
			tb.Errorf("%s differs:\nsource:   %.600s\nrestored: %.600s", k, w, g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			tb.Errorf("%s is in the restored database only", k)
		}
	}
}

func TestLoadMariaDBDump(t *testing.T) {
	srv, src := testenv.MySQLDatabase(t)
	loadFixture(t, srv, src)
	srcDB := srv.Open(t, src)
	want := snapshot(t, srcDB)
	if want["procedure win_path"] == "" || !strings.Contains(want["procedure add_sale"], "a block comment") {
		t.Fatalf("fixture did not load as expected: %v", want)
	}

	dump := runClient(t, srv, nil, "mariadb-dump", "--single-transaction", "--routines", "--events",
		"--triggers", "--hex-blob", src)
	for _, s := range []string{"DELIMITER ;;", "ALTER DATABASE `" + src + "`", "NO_BACKSLASH_ESCAPES", "0x00FF5C27"} {
		if !bytes.Contains(dump, []byte(s)) {
			t.Fatalf("the dump lacks %q; the fixture no longer covers it", s)
		}
	}

	_, dst := testenv.MySQLDatabase(t)
	c := conn(t, srv, dst)
	var calls int
	opts := LoadOptions{SkipUseAndCreateDatabase: true}
	st, err := opts.Load(context.Background(), c, bytes.NewReader(dump), func(Stats) { calls++ })
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if st.Bytes != int64(len(dump)) || st.Statements < 50 || int64(calls) != st.Statements+st.Skipped+1 {
		t.Errorf("stats %+v after %d progress calls for a dump of %d bytes", st, calls, len(dump))
	}
	dstDB := srv.Open(t, dst)
	sameSnapshot(t, want, snapshot(t, dstDB), src, dst)

	// The source is untouched: its ALTER DATABASE went to the target.
	sameSnapshot(t, want, snapshot(t, srcDB), src, src)

	t.Run("loading again over the restore gives the same database", func(t *testing.T) {
		if _, err := opts.Load(context.Background(), c, bytes.NewReader(dump), nil); err != nil {
			t.Fatalf("second load: %v", err)
		}
		sameSnapshot(t, want, snapshot(t, dstDB), src, dst)
	})

	t.Run("same result as the mariadb client", func(t *testing.T) {
		// The client runs ALTER DATABASE on the source's name, so the
		// database collation of the routine it wraps differs; the
		// client would also strip comments without --comments.
		_, viaClient := testenv.MySQLDatabase(t)
		runClient(t, srv, bytes.NewReader(dump), "mariadb", "--comments", viaClient)
		sameSnapshot(t, snapshot(t, srv.Open(t, viaClient), "Database Collation"),
			snapshot(t, dstDB, "Database Collation"), viaClient, dst)
	})
}

func TestLoadDatabasesDumpIntoAnotherName(t *testing.T) {
	srv, src := testenv.MySQLDatabase(t)
	loadFixture(t, srv, src)
	srcDB := srv.Open(t, src)
	want := snapshot(t, srcDB)
	// --databases --add-drop-database: CREATE DATABASE, USE and
	// DROP DATABASE of the source's name.
	dump := runClient(t, srv, nil, "mariadb-dump", "--databases", "--add-drop-database", "--single-transaction",
		"--routines", "--events", "--triggers", "--hex-blob", src)
	for _, s := range []string{"DROP DATABASE IF EXISTS `" + src + "`", "CREATE DATABASE", "USE `" + src + "`"} {
		if !bytes.Contains(dump, []byte(s)) {
			t.Fatalf("the dump lacks %q", s)
		}
	}
	_, dst := testenv.MySQLDatabase(t)
	st, err := LoadOptions{SkipUseAndCreateDatabase: true}.Load(context.Background(), conn(t, srv, dst), bytes.NewReader(dump), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped != 4 {
		t.Errorf("skipped %d statements, want 4 (DROP DATABASE, CREATE DATABASE, USE twice)", st.Skipped)
	}
	sameSnapshot(t, want, snapshot(t, srv.Open(t, dst)), src, dst)
	sameSnapshot(t, want, snapshot(t, srcDB), src, src)
}

func TestLoadUseWithoutOption(t *testing.T) {
	srv, a := testenv.MySQLDatabase(t)
	_, b := testenv.MySQLDatabase(t)
	script := fmt.Sprintf("USE `%s`;\nCREATE TABLE t1 (a INT);\nuse %s\nCREATE TABLE t2 (a INT);\n", b, a)
	if _, err := Load(context.Background(), conn(t, srv, a), strings.NewReader(script), nil); err != nil {
		t.Fatal(err)
	}
	var n int
	admin := srv.Open(t, "")
	q := "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
	for _, c := range []struct{ db, table string }{{b, "t1"}, {a, "t2"}} {
		if err := admin.QueryRow(q, c.db, c.table).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s.%s: count %d, %v", c.db, c.table, n, err)
		}
	}
}

func TestLoadStatementError(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	secret := "SECRET-BEYOND-THE-SNIPPET"
	script := "CREATE TABLE t (a VARCHAR(500));\n-- comment\n\nINSERT INTO nope VALUES\n('" +
		strings.Repeat("x", 300) + secret + "');\nINSERT INTO t VALUES ('never');\n"
	c := conn(t, srv, name)
	st, err := Load(context.Background(), c, strings.NewReader(script), nil)
	var se *StatementError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *StatementError", err)
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1146 {
		t.Errorf("the server's error is not wrapped: %v", err)
	}
	if se.Number != 2 || se.Line != 4 || st.Statements != 1 {
		t.Errorf("got statement %d line %d after %d statements, want 2, 4, 1", se.Number, se.Line, st.Statements)
	}
	msg := err.Error()
	wantPos := fmt.Sprintf("statement 2 (line 4, byte %d: INSERT INTO nope VALUES)", strings.Index(script, "INSERT"))
	if !strings.Contains(msg, wantPos) || strings.Contains(msg, "xxx") || strings.Contains(msg, secret) {
		t.Errorf("message should say where the statement is and quote none of it:\n%s\nwant %s", msg, wantPos)
	}
	var n int
	if err := c.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Errorf("statements after the failure ran: %d rows, %v", n, err)
	}
}

// Server messages that quote a value (duplicate key, bad value, the text
// near a syntax error) reach the error without it.
func TestLoadStatementErrorHidesValues(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	const secret = "card-4111111111111111"
	tests := []struct {
		name, stmt string
		number     uint16
		head       string
	}{
		{"duplicate key", "INSERT INTO `t` VALUES (1, '" + secret + "')", 1062, "INSERT INTO `t`"},
		{"bad value", "INSERT INTO `t` (`n`) VALUES ('" + secret + "')", 1366, "INSERT INTO `t`"},
		{"syntax error", "INSERT INTO `t` VALUES (2, '" + secret + "') ,,", 1064, "INSERT INTO `t`"},
	}
	c := conn(t, srv, name)
	if _, err := c.ExecContext(context.Background(), "CREATE TABLE `t` (`n` INT NOT NULL, `s` VARCHAR(50), UNIQUE KEY `u_s` (`s`))"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(context.Background(), "INSERT INTO `t` VALUES (0, '"+secret+"')"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := "SET SESSION sql_mode = 'STRICT_ALL_TABLES';\n" + tt.stmt + ";\n"
			_, err := Load(context.Background(), c, strings.NewReader(script), nil)
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != tt.number {
				t.Fatalf("got %v, want server error %d", err, tt.number)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || strings.Contains(msg, "4111") || !strings.Contains(msg, "statement 2 (line 2, ") || !strings.Contains(msg, tt.head) {
				t.Errorf("message quotes the value or lacks the position: %s", msg)
			}
		})
	}
}

func TestLoadOversizeStatement(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	c := conn(t, srv, name)
	var maxPacket int
	if err := c.QueryRowContext(context.Background(), "SELECT @@max_allowed_packet").Scan(&maxPacket); err != nil {
		t.Fatal(err)
	}
	big := io.MultiReader(strings.NewReader("SELECT 1;\nSELECT '"),
		io.LimitReader(repeatReader('x'), int64(maxPacket)+1), strings.NewReader("';\nSELECT 2;\n"))
	_, err := Load(context.Background(), c, big, nil)
	var se *StatementError
	if !errors.As(err, &se) || se.Number != 2 || !strings.Contains(err.Error(), "max_allowed_packet") {
		t.Fatalf("got %v, want statement 2 refused for max_allowed_packet", err)
	}
	if err := c.PingContext(context.Background()); err != nil {
		t.Errorf("the connection should still work: %v", err)
	}
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestLoadEmptyVersionedComment(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	// Executable comments for a future server version leave nothing to
	// run; the server answers "Query was empty", which the client ignores.
	script := "/*!999999 SELECT no_such_column */;\nCREATE TABLE t (a INT);\n"
	st, err := Load(context.Background(), conn(t, srv, name), strings.NewReader(script), nil)
	if err != nil || st.Statements != 2 {
		t.Fatalf("got %+v, %v", st, err)
	}
}

func TestLoadCancel(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	var script strings.Builder
	script.WriteString("CREATE TABLE t (a INT);\n")
	for i := range 100 {
		fmt.Fprintf(&script, "INSERT INTO t VALUES (%d);\n", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := Load(ctx, conn(t, srv, name), strings.NewReader(script.String()), func(s Stats) {
		if s.Statements == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || st.Statements != 3 {
		t.Fatalf("got %+v, %v; want 3 statements and context.Canceled", st, err)
	}
	var n int
	if err := srv.Open(t, name).QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Errorf("rows after cancel: %d, %v; want 2", n, err)
	}
}

func TestLoadTruncatedDump(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	script := "CREATE TABLE t (a VARCHAR(10));\nINSERT INTO t VALUES ('ab"
	_, err := Load(context.Background(), conn(t, srv, name), strings.NewReader(script), nil)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("got %v, want a SyntaxError on line 2 about truncation", err)
	}
}

// A mariadb-dump file keeps every DEFINER, in its /*!50013 … */ and
// /*!50017 … */ forms. An account with rights on the target database only
// cannot load it as is; with RewriteDefiners it can, and every object is
// then its own, listed in the stats.
func TestLoadRewriteDefiners(t *testing.T) {
	srv, src := testenv.MySQLDatabase(t)
	loadFixture(t, srv, src)
	srcDB := srv.Open(t, src)
	want := snapshot(t, srcDB)
	dump := runClient(t, srv, nil, "mariadb-dump", "--single-transaction", "--routines", "--events", "--triggers", src)
	for _, s := range []string{"/*!50013 DEFINER=", "/*!50017 DEFINER=", "/*!50117 DEFINER=", "CREATE DEFINER="} {
		if !bytes.Contains(dump, []byte(s)) {
			t.Fatalf("the dump lacks %q; the test no longer covers it", s)
		}
	}
	var objects int
	for _, q := range []string{"views", "triggers", "routines", "events"} {
		schemaCol := map[string]string{"views": "table_schema", "triggers": "trigger_schema", "routines": "routine_schema", "events": "event_schema"}[q]
		var n int
		if err := srcDB.QueryRow("SELECT COUNT(*) FROM information_schema." + q + " WHERE " + schemaCol + " = DATABASE()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		objects += n
	}

	_, dst := testenv.MySQLDatabase(t)
	acc := testenv.MySQLAccount(t, srv, "GRANT ALL PRIVILEGES ON `"+dst+"`.* TO {user}")
	t.Run("as is, the account is refused", func(t *testing.T) {
		_, other := testenv.MySQLDatabase(t)
		acc2 := testenv.MySQLAccount(t, srv, "GRANT ALL PRIVILEGES ON `"+other+"`.* TO {user}")
		_, err := LoadOptions{SkipUseAndCreateDatabase: true}.Load(context.Background(), conn(t, acc2, other), bytes.NewReader(dump), nil)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1227 { // ER_SPECIFIC_ACCESS_DENIED_ERROR
			t.Fatalf("got %v, want access denied (SUPER or SET USER needed)", err)
		}
	})

	st, err := LoadOptions{SkipUseAndCreateDatabase: true, RewriteDefiners: true}.Load(context.Background(), conn(t, acc, dst), bytes.NewReader(dump), nil)
	if err != nil {
		t.Fatalf("load with RewriteDefiners: %v", err)
	}
	if len(st.RewrittenDefiners) != objects || objects < 5 {
		t.Errorf("%d definers rewritten, the source has %d objects:\n%s", len(st.RewrittenDefiners), objects, strings.Join(st.RewrittenDefiners, "\n"))
	}
	for _, line := range st.RewrittenDefiners {
		if !strings.Contains(line, ": DEFINER `"+srv.User+"`@`%` → current user `"+acc.User+"`@`%`") {
			t.Errorf("report line %q", line)
		}
	}
	// Everything else is as in the source.
	for k, v := range want {
		want[k] = strings.ReplaceAll(v, "DEFINER=`"+srv.User+"`@`%`", "DEFINER=`"+acc.User+"`@`%`")
	}
	sameSnapshot(t, want, snapshot(t, srv.Open(t, dst)), src, dst)
}
