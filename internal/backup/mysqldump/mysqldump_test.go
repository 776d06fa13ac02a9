// The fake mysqldump programs of these tests are shell scripts.

//go:build !windows

package mysqldump

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

func dbConfig(srv testenv.MySQLServer, name string) config.DB {
	return config.DB{Source: "test", Host: srv.Host, Port: srv.Port, Name: name,
		User: srv.User, Password: config.Secret(srv.Password)}
}

// load runs a SQL script on database name with sqlload.
func load(tb testing.TB, srv testenv.MySQLServer, name string, r io.Reader) {
	tb.Helper()
	c, err := srv.Open(tb, name).Conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	if _, err := sqlload.Load(context.Background(), c, r, nil); err != nil {
		tb.Fatalf("load into %s: %v", name, err)
	}
}

// fixtureDB returns a fresh database filled with the sqlload round-trip
// fixture (tables, FKs, views, trigger, routines, event, hard data).
func fixtureDB(tb testing.TB) (testenv.MySQLServer, string) {
	tb.Helper()
	srv, name := testenv.MySQLDatabase(tb)
	f, err := os.Open("../sqlload/testdata/fixture.sql")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	load(tb, srv, name, f)
	return srv, name
}

// tableState returns each base table's row count and CHECKSUM TABLE.
func tableState(tb testing.TB, db *sql.DB) (counts map[string]int64, sums map[string]string) {
	tb.Helper()
	rs, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for rs.Next() {
		var n string
		if err := rs.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		names = append(names, n)
	}
	rs.Close()
	counts, sums = map[string]int64{}, map[string]string{}
	for _, n := range names {
		q := "`" + strings.ReplaceAll(n, "`", "``") + "`"
		var c int64
		var table, sum sql.NullString
		if err := db.QueryRow("SELECT COUNT(*) FROM " + q).Scan(&c); err != nil {
			tb.Fatal(err)
		}
		if err := db.QueryRow("CHECKSUM TABLE "+q).Scan(&table, &sum); err != nil {
			tb.Fatal(err)
		}
		counts[n], sums[n] = c, sum.String
	}
	return counts, sums
}

func TestDumpRoundTrip(t *testing.T) {
	srv, src := fixtureDB(t)
	srcDB := srv.Open(t, src)
	wantCounts, wantSums := tableState(t, srcDB)
	var serverVersion string
	if err := srcDB.QueryRow("SELECT VERSION()").Scan(&serverVersion); err != nil {
		t.Fatal(err)
	}

	at := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	tmp := t.TempDir()
	e, err := New(dbConfig(srv, src), Options{TempDir: tmp, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "mysqldump" {
		t.Errorf("Name() = %q", e.Name())
	}
	var out bytes.Buffer
	var last backup.Progress
	calls := 0
	info, err := e.Dump(context.Background(), &out, func(p backup.Progress) {
		if p.Bytes < last.Bytes || p.Rows < last.Rows {
			t.Errorf("progress went back: %+v after %+v", p, last)
		}
		last = p
		calls++
	})
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	if !hasTrailer(out.Bytes()) {
		t.Fatalf("no trailer at the end of %d bytes", out.Len())
	}
	if info.Engine != "mysqldump" || !strings.Contains(info.ToolVersion, "Distrib") || info.ServerVersion != serverVersion ||
		info.Database != src || !info.SnapshotAt.Equal(at) {
		t.Errorf("info %+v", info)
	}
	gotCounts := map[string]int64{}
	var total int64
	for _, ti := range info.Tables {
		gotCounts[ti.Name] = ti.Rows
		total += ti.Rows
	}
	if fmt.Sprint(gotCounts) != fmt.Sprint(wantCounts) {
		t.Errorf("tables %v, want %v", gotCounts, wantCounts)
	}
	if calls == 0 || last.Rows != total || last.Bytes == 0 {
		t.Errorf("%d progress calls, last %+v, %d rows", calls, last, total)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the run left %v in its temp dir", left)
	}

	_, dst := testenv.MySQLDatabase(t)
	load(t, srv, dst, bytes.NewReader(out.Bytes()))
	gotRestored, gotSums := tableState(t, srv.Open(t, dst))
	if fmt.Sprint(gotRestored) != fmt.Sprint(wantCounts) || fmt.Sprint(gotSums) != fmt.Sprint(wantSums) {
		t.Errorf("restored tables differ:\n%v %v\nwant\n%v %v", gotRestored, gotSums, wantCounts, wantSums)
	}
}

func TestDumpWrongPassword(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	db := dbConfig(srv, name)
	db.Password = "wrong-Pa55word-x7"
	e, err := New(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Dump(context.Background(), io.Discard, nil)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "Access denied") {
		t.Fatalf("got %v, want ErrFailed with Access denied", err)
	}
	if strings.Contains(err.Error(), "wrong-Pa55word") {
		t.Errorf("the message holds the password: %v", err)
	}
}

func TestDumpMissingDatabase(t *testing.T) {
	srv := testenv.MySQL(t)
	e, err := New(dbConfig(srv, "no_such_db_cantina"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = e.Dump(context.Background(), &out, nil)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "Unknown database") {
		t.Fatalf("got %v, want ErrFailed with Unknown database", err)
	}
}

// sqlString quotes s as a MariaDB string literal.
func sqlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\x00", `\0`)
	return "'" + r.Replace(s) + "'"
}

func TestDumpAccountWithHardPassword(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	admin := srv.Open(t, "")
	user := "ct_" + strings.TrimPrefix(name, "t_")
	password := " a\"b\\c#d' e;f =g\\ \t[client]\nuser=root "
	if _, err := admin.Exec("CREATE USER '" + user + "'@'%' IDENTIFIED BY " + sqlString(password)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec("DROP USER IF EXISTS '" + user + "'@'%'") })
	if _, err := admin.Exec("GRANT ALL ON `" + name + "`.* TO '" + user + "'@'%'"); err != nil {
		t.Fatal(err)
	}
	load(t, srv, name, strings.NewReader("CREATE TABLE t (a INT PRIMARY KEY, s VARCHAR(20));\nINSERT INTO t VALUES (1,'x'),(2,'y');\n"))
	db := dbConfig(srv, name)
	db.User, db.Password = user, config.Secret(password)
	e, err := New(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := e.Dump(context.Background(), io.Discard, nil)
	if err != nil {
		t.Fatalf("dump as %s: %v", user, err)
	}
	if len(info.Tables) != 1 || info.Tables[0] != (backup.TableInfo{Name: "t", Rows: 2}) {
		t.Errorf("tables %+v", info.Tables)
	}
}

func TestDumpTLSModes(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	load(t, srv, name, strings.NewReader("CREATE TABLE t (a INT);\n"))
	// The test server has no TLS: every mode that does not insist on a
	// verified TLS connection must work, so its flags are accepted.
	for _, mode := range []string{"", "false", "preferred", "skip-verify", "true"} {
		db := dbConfig(srv, name)
		db.TLS = mode
		e, err := New(db, Options{})
		if err != nil {
			t.Fatalf("tls=%q: %v", mode, err)
		}
		_, err = e.Dump(context.Background(), io.Discard, nil)
		switch {
		case mode == "true" && (!errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "SSL")):
			t.Errorf("tls=true against a server without TLS: %v", err)
		case mode != "true" && err != nil:
			t.Errorf("tls=%q: %v", mode, err)
		}
	}
}

func TestNewWithoutBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := New(config.DB{Name: "pos"}, Options{})
	if !errors.Is(err, ErrNoBinary) || err.Error() != "BACKUP_ENGINE=mysqldump needs the mysqldump binary; use BACKUP_ENGINE=native" {
		t.Fatalf("got %v", err)
	}
	_, err = New(config.DB{Name: "pos"}, Options{Binary: "/nonexistent/mysqldump"})
	if !errors.Is(err, ErrNoBinary) {
		t.Fatalf("got %v", err)
	}
}

// fakeTool puts a fake mariadb-dump and mysqldump first on PATH: a shell
// script that answers --version like mariadb-dump 10.11 and otherwise runs
// body. FAKE_OUT names a directory the script may write to. It returns
// that directory.
func fakeTool(t *testing.T, body string) string {
	t.Helper()
	bin, out := t.TempDir(), t.TempDir()
	// FAKE_OUT is written into the script: the program inherits only a
	// few variables of ours.
	script := "#!/bin/sh\nFAKE_OUT='" + out + "'\n" +
		"case \"$*\" in *--version*) echo 'mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for fake (x86_64)'; exit 0;; esac\n" +
		"cnf=\"${1#--defaults-file=}\"\n" + body + "\n"
	for _, n := range []string{"mariadb-dump", "mysqldump"} {
		if err := os.WriteFile(filepath.Join(bin, n), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return out
}

func fakeDB() config.DB {
	return config.DB{Host: "127.0.0.1", Port: 1, Name: "pos", User: "pos", Password: "fake-Secret-99"}
}

const fakeHeader = `printf -- '-- MariaDB dump 10.19\n-- Server version\t10.11.0-fake\n\nCREATE TABLE ` + "`t`" + ` (a int);\nINSERT INTO ` + "`t`" + ` VALUES (1),(2);\n'`

func TestDumpWithoutTrailerFails(t *testing.T) {
	fakeTool(t, fakeHeader+"\nexit 0")
	e, err := New(fakeDB(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	info, err := e.Dump(context.Background(), &out, nil)
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("got %v, want ErrIncomplete", err)
	}
	if !strings.Contains(out.String(), "INSERT INTO `t`") || info.ServerVersion != "10.11.0-fake" {
		t.Errorf("output %q, info %+v", out.String(), info)
	}
}

func TestDumpNonZeroExitAfterTrailerFails(t *testing.T) {
	fakeTool(t, fakeHeader+"\necho '-- Dump completed on 2026-01-01  0:00:00'\necho 'mysqldump: Error 2013: Lost connection' >&2\nexit 2")
	e, err := New(fakeDB(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Dump(context.Background(), io.Discard, nil)
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "exit status 2") || !strings.Contains(err.Error(), "Lost connection") {
		t.Fatalf("got %v", err)
	}
}

func TestDumpKeepsThePasswordOutOfArgvAndMessages(t *testing.T) {
	out := fakeTool(t, `for a in "$@"; do echo "$a"; done > "$FAKE_OUT/args"
stat -c %a "$cnf" > "$FAKE_OUT/mode"
env > "$FAKE_OUT/env"
echo "$cnf" > "$FAKE_OUT/cnf"
grep password "$cnf" >&2
exit 3`)
	secrets := map[string]string{
		"MYSQL_PWD":            "from-the-environment",
		"DATABASE_URL":         "mysql://pos:url-Secret-1@db/pos",
		"EMAIL_HOST_PASSWORD":  "smtp-Secret-2",
		"S3_SECRET_ACCESS_KEY": "s3-Secret-3",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	db := fakeDB()
	e, err := New(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Dump(context.Background(), io.Discard, nil)
	if !errors.Is(err, ErrFailed) || strings.Contains(err.Error(), db.Password.Reveal()) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Fatalf("got %v", err)
	}
	read := func(n string) string {
		b, err := os.ReadFile(filepath.Join(out, n))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	args := read("args")
	if strings.Contains(args, db.Password.Reveal()) || !strings.HasPrefix(args, "--defaults-file=") {
		t.Errorf("argv:\n%s", args)
	}
	if m := read("mode"); m != "600" {
		t.Errorf("option file mode %s, want 600", m)
	}
	env := read("env")
	if !strings.Contains(env, "HOME="+filepath.Dir(read("cnf"))) {
		t.Errorf("environment without the private HOME:\n%s", env)
	}
	for k, v := range secrets {
		if strings.Contains(env, k) || strings.Contains(env, v) {
			t.Errorf("%s reaches the dump program's environment:\n%s", k, env)
		}
	}
	if _, err := os.Stat(read("cnf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the option file is still there: %v", err)
	}
}

func TestDumpCancelKillsTheProgram(t *testing.T) {
	out := fakeTool(t, `echo $$ > "$FAKE_OUT/pid"
echo "$cnf" > "$FAKE_OUT/cnf"
`+fakeHeader+`
exec sleep 600`)
	e, err := New(fakeDB(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first progress report proves the program is running and
	// writing; cancel then.
	_, err = e.Dump(ctx, io.Discard, func(backup.Progress) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d still exists after Dump returned: %v", pid, err)
	}
	cnf, _ := os.ReadFile(filepath.Join(out, "cnf"))
	if _, err := os.Stat(strings.TrimSpace(string(cnf))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the option file is still there: %v", err)
	}
}

// failingWriter fails once it has taken limit bytes.
type failingWriter struct{ n, limit int }

var errDiskFull = errors.New("no space left on device")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, errDiskFull
	}
	w.n += len(p)
	return len(p), nil
}

func TestDumpWriteErrorStopsTheProgram(t *testing.T) {
	fakeTool(t, `exec yes 'INSERT INTO t VALUES (1);'`)
	e, err := New(fakeDB(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Dump(context.Background(), &failingWriter{limit: 1 << 20}, nil)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("got %v, want the writer's error", err)
	}
}
