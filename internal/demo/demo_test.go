package demo

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

const testSize = 2 << 20

// seeded returns a fresh database filled by Seed with the given seed.
func seeded(t *testing.T, seed int64) (*sql.DB, Stats) {
	t.Helper()
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	st, err := Seed(context.Background(), db, Options{Size: testSize, Seed: seed})
	if err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return db, st
}

// checksums returns CHECKSUM TABLE for every demo table.
func checksums(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	sums := map[string]int64{}
	for _, table := range Tables() {
		var name string
		var sum sql.NullInt64
		if err := db.QueryRow("CHECKSUM TABLE `"+table+"`").Scan(&name, &sum); err != nil {
			t.Fatalf("checksum %s: %v", table, err)
		}
		if !sum.Valid {
			t.Fatalf("checksum %s: NULL (table missing?)", table)
		}
		sums[table] = sum.Int64
	}
	return sums
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	a, _ := seeded(t, 7)
	b, _ := seeded(t, 7)
	c, _ := seeded(t, 8)
	sa, sb, sc := checksums(t, a), checksums(t, b), checksums(t, c)
	for _, table := range Tables() {
		if sa[table] != sb[table] {
			t.Errorf("%s: checksum %d vs %d with the same seed", table, sa[table], sb[table])
		}
		// Categories are fixed; every other table depends on the seed.
		if table != "categories" && sa[table] == sc[table] {
			t.Errorf("%s: same checksum %d with seeds 7 and 8", table, sa[table])
		}
	}
}

func TestSeedFillsEveryTable(t *testing.T) {
	t.Parallel()
	db, st := seeded(t, 1)
	if len(st.Tables) != len(Tables()) {
		t.Fatalf("Stats has %d tables, want %d", len(st.Tables), len(Tables()))
	}
	for _, ts := range st.Tables {
		got := count(t, db, "SELECT COUNT(*) FROM `"+ts.Name+"`")
		if got == 0 || got != ts.Rows {
			t.Errorf("%s: %d rows in the table, Stats says %d", ts.Name, got, ts.Rows)
		}
		if ts.DataBytes <= 0 {
			t.Errorf("%s: DataBytes = %d", ts.Name, ts.DataBytes)
		}
	}
	// Generated data keeps the invariants the foreign keys and trigger keep.
	for _, q := range []string{
		"SELECT COUNT(*) FROM sale_lines l LEFT JOIN sales s ON s.id = l.sale_id WHERE s.id IS NULL",
		"SELECT COUNT(*) FROM sale_lines l LEFT JOIN products p ON p.id = l.product_id WHERE p.id IS NULL",
		"SELECT COUNT(*) FROM payments p LEFT JOIN sales s ON s.id = p.sale_id WHERE s.id IS NULL",
		"SELECT COUNT(*) FROM sales s LEFT JOIN customers c ON c.id = s.customer_id WHERE s.customer_id IS NOT NULL AND c.id IS NULL",
		"SELECT COUNT(*) FROM sales s WHERE s.total <> (SELECT SUM(qty * unit_price) FROM sale_lines WHERE sale_id = s.id)",
		"SELECT COUNT(*) FROM sales s WHERE s.status = 'paid' AND s.total <> (SELECT SUM(amount) FROM payments WHERE sale_id = s.id)",
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%d rows break an invariant: %s", n, q)
		}
	}
}

func TestSeedTrickyValues(t *testing.T) {
	t.Parallel()
	db, _ := seeded(t, 1)
	checks := []struct {
		what  string
		query string
		args  []any
	}{
		{"NULL email", "SELECT COUNT(*) FROM customers WHERE email IS NULL", nil},
		{"empty email", "SELECT COUNT(*) FROM customers WHERE email = ''", nil},
		{"emoji allergies", "SELECT COUNT(*) FROM customers WHERE allergies LIKE ?", []any{"%🥜%"}},
		{"multi-line allergies", "SELECT COUNT(*) FROM customers WHERE allergies LIKE ?", []any{"%\n¡Grave!%"}},
		{"accented names", "SELECT COUNT(*) FROM customers WHERE last_name LIKE ?", []any{"%Núñez%"}},
		{"apostrophe names", "SELECT COUNT(*) FROM customers WHERE last_name LIKE ?", []any{"%O'Connor%"}},
		{"NUL byte note", "SELECT COUNT(*) FROM sales WHERE note = ?", []any{"byte NUL:\x00:fin"}},
		{"Ctrl-Z note", "SELECT COUNT(*) FROM sales WHERE note = ?", []any{"Ctrl-Z:\x1a:fin"}},
		{"backslash note", "SELECT COUNT(*) FROM sales WHERE note = ?", []any{`Barra invertida \ al final\`}},
		{"4-byte emoji note", "SELECT COUNT(*) FROM sales WHERE note LIKE ?", []any{"😀%"}},
		{"euro note", "SELECT COUNT(*) FROM sales WHERE note LIKE ?", []any{"%€%"}},
		{"empty note", "SELECT COUNT(*) FROM sales WHERE note = ''", nil},
		{"NULL image", "SELECT COUNT(*) FROM products WHERE image IS NULL", nil},
		{"empty image", "SELECT COUNT(*) FROM products WHERE image = ''", nil},
		{"image with NUL bytes", "SELECT COUNT(*) FROM products WHERE LOCATE(X'00', image) > 0", nil},
		{"NULL category description", "SELECT COUNT(*) FROM categories WHERE description IS NULL", nil},
		{"negative balance", "SELECT COUNT(*) FROM customers WHERE balance < 0", nil},
		{"refund payment", "SELECT COUNT(*) FROM payments WHERE amount < 0", nil},
		{"every payment method", "SELECT COUNT(DISTINCT method) = 3 FROM payments", nil},
	}
	for _, c := range checks {
		if n := count(t, db, c.query, c.args...); n == 0 {
			t.Errorf("no %s in the data (%s)", c.what, c.query)
		}
	}
	var img []byte
	if err := db.QueryRow("SELECT image FROM products WHERE LENGTH(image) > 16 ORDER BY id LIMIT 1").Scan(&img); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("image starts with %q, want the PNG signature", img[:8])
	}
}

func TestViewAndTrigger(t *testing.T) {
	t.Parallel()
	db, _ := seeded(t, 1)
	ctx := context.Background()

	var days, viewSales int64
	var viewTotal string
	if err := db.QueryRow("SELECT COUNT(*), SUM(sales), SUM(total) FROM daily_sales").Scan(&days, &viewSales, &viewTotal); err != nil {
		t.Fatalf("query view: %v", err)
	}
	var directTotal string
	if err := db.QueryRow("SELECT SUM(total) FROM sales WHERE status = 'paid'").Scan(&directTotal); err != nil {
		t.Fatal(err)
	}
	if days == 0 || viewSales != count(t, db, "SELECT COUNT(*) FROM sales WHERE status = 'paid'") || viewTotal != directTotal {
		t.Errorf("daily_sales: %d days, %d sales, total %s; want the paid sales' total %s", days, viewSales, viewTotal, directTotal)
	}

	stockBefore := count(t, db, "SELECT stock FROM products WHERE id = 3")
	res, err := db.ExecContext(ctx, "INSERT INTO sales (customer_id, user_id, status, created_at) VALUES (NULL, 1, 'open', NOW(6))")
	if err != nil {
		t.Fatalf("insert sale: %v", err)
	}
	saleID, _ := res.LastInsertId()
	for _, line := range []string{
		"INSERT INTO sale_lines (sale_id, product_id, qty, unit_price) VALUES (?, 3, 2, 1.25)",
		"INSERT INTO sale_lines (sale_id, product_id, qty, unit_price) VALUES (?, 3, 1, 0.40)",
	} {
		if _, err := db.ExecContext(ctx, line, saleID); err != nil {
			t.Fatalf("insert sale line: %v", err)
		}
	}
	var total string
	if err := db.QueryRow("SELECT total FROM sales WHERE id = ?", saleID).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != "2.90" {
		t.Errorf("trigger: sale total = %s, want 2.90", total)
	}
	if after := count(t, db, "SELECT stock FROM products WHERE id = 3"); after != stockBefore-3 {
		t.Errorf("trigger: stock %d → %d, want %d", stockBefore, after, stockBefore-3)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO sale_lines (sale_id, product_id, qty, unit_price) VALUES (?, 999999, 1, 1)", saleID); err == nil {
		t.Error("a sale line with an unknown product was accepted: foreign keys not in force")
	}
}

func TestSeedExistingAndReset(t *testing.T) {
	t.Parallel()
	db, _ := seeded(t, 1)
	ctx := context.Background()

	if found, err := Objects(ctx, db); err != nil || len(found) != len(Tables())+2 {
		t.Fatalf("Objects = %v, %v after Seed; want every table, the view and the trigger", found, err)
	}
	if _, err := Seed(ctx, db, Options{Size: testSize, Seed: 1}); !errors.Is(err, ErrExists) {
		t.Fatalf("second Seed: err = %v, want ErrExists", err)
	}
	// Seed's bulk-load session settings must not leak into the pool.
	for i := 0; i < 5; i++ {
		var fk int
		if err := db.QueryRow("SELECT @@session.foreign_key_checks").Scan(&fk); err != nil || fk != 1 {
			t.Fatalf("foreign_key_checks = %d, %v on a pooled connection; want 1", fk, err)
		}
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE keep_me (id INT)"); err != nil {
		t.Fatal(err)
	}
	if err := Reset(ctx, db, false); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	left := count(t, db, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> ?", MarkerTable)
	triggers := count(t, db, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")
	if left != 1 || triggers != 0 {
		t.Errorf("after Reset: %d tables/views and %d triggers left besides the marker, want only keep_me", left, triggers)
	}
	if found, err := Objects(ctx, db); err != nil || len(found) != 0 {
		t.Errorf("Objects = %v, %v after Reset; want none", found, err)
	}
	if err := Reset(ctx, db, false); err != nil {
		t.Errorf("Reset on an empty database: %v", err)
	}
	if _, err := Seed(ctx, db, Options{Size: testSize, Seed: 1}); err != nil {
		t.Errorf("Seed after Reset: %v", err)
	}
}

// TestLiteralsRoundTrip checks the hand-written literal encoding against the
// server: every byte value and the tricky strings come back unchanged.
func TestLiteralsRoundTrip(t *testing.T) {
	t.Parallel()
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE lit (id INT PRIMARY KEY, s LONGTEXT CHARACTER SET utf8mb4, b LONGBLOB) DEFAULT CHARSET=utf8mb4"); err != nil {
		t.Fatal(err)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	strs := append([]string{"", "'", `\`, `\'`, "''", "\x00", "\x1a", "\r\n\t", "ñá€😀"}, saleNotes...)
	err := withLoadConn(ctx, db, func(c *sql.Conn) error {
		q := []byte("INSERT INTO lit VALUES ")
		for i, s := range strs {
			if i > 0 {
				q = append(q, ',')
			}
			q = append(q, '(')
			q = strconv.AppendInt(q, int64(i), 10)
			q = append(q, ',')
			q = appendString(q, s)
			q = append(q, ',')
			q = appendBlob(q, all[:i*17%257])
			q = append(q, ')')
		}
		_, err := c.ExecContext(ctx, string(q))
		return err
	})
	if err != nil {
		t.Fatalf("insert literals: %v", err)
	}
	for i, want := range strs {
		var s string
		var b []byte
		if err := db.QueryRow("SELECT s, b FROM lit WHERE id = ?", i).Scan(&s, &b); err != nil {
			t.Fatal(err)
		}
		if s != want {
			t.Errorf("string %d: got %q, want %q", i, s, want)
		}
		if !bytes.Equal(b, all[:i*17%257]) {
			t.Errorf("blob %d: got %x", i, b)
		}
	}
}

// TestSeedSchemaMatchesSchemaSQL checks that loading with deferred keys ends
// with exactly the schema that Schema() creates statement by statement.
func TestSeedSchemaMatchesSchemaSQL(t *testing.T) {
	t.Parallel()
	seededDB, _ := seeded(t, 1)
	srv, name := testenv.MySQLDatabase(t)
	plain := srv.Open(t, name)
	for _, stmt := range Schema() {
		if _, err := plain.Exec(stmt); err != nil {
			t.Fatalf("%.60s…: %v", stmt, err)
		}
	}
	autoInc := regexp.MustCompile(` AUTO_INCREMENT=\d+`)
	show := func(db *sql.DB, kind, object string) string {
		t.Helper()
		rows, err := db.Query("SHOW CREATE " + kind + " `" + object + "`")
		if err != nil {
			t.Fatalf("show create %s %s: %v", kind, object, err)
		}
		defer rows.Close()
		names, _ := rows.Columns()
		vals := make([]sql.NullString, len(names))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if !rows.Next() {
			t.Fatalf("show create %s %s: no row", kind, object)
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		// The statement is in column 1 for every kind but TRIGGER (2).
		stmt := vals[1].String
		if kind == "TRIGGER" {
			stmt = vals[2].String
		}
		return autoInc.ReplaceAllString(stmt, "")
	}
	for _, table := range Tables() {
		if got, want := show(seededDB, "TABLE", table), show(plain, "TABLE", table); got != want {
			t.Errorf("table %s after Seed:\n%s\nwant (from schema.sql):\n%s", table, got, want)
		}
	}
	if got, want := show(seededDB, "VIEW", View), show(plain, "VIEW", View); got != want {
		t.Errorf("view after Seed:\n%s\nwant:\n%s", got, want)
	}
	if got, want := show(seededDB, "TRIGGER", Trigger), show(plain, "TRIGGER", Trigger); got != want {
		t.Errorf("trigger after Seed:\n%s\nwant:\n%s", got, want)
	}
}

// TestSeedCancelledCleansUp cancels a large seed mid-load: Seed must return
// the cancellation and leave no demo object behind, so that a later
// `demo seed --if-empty` does not mistake a half-loaded database for a full one.
func TestSeedCancelledCleansUp(t *testing.T) {
	t.Parallel()
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Seed(ctx, db, Options{Size: 1 << 30, Seed: 1})
		done <- err
	}()

	watch, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	if _, err := watch.ExecContext(context.Background(), "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, "sale lines being loaded", func() bool {
		var one int
		return watch.QueryRowContext(context.Background(), "SELECT 1 FROM sale_lines LIMIT 1").Scan(&one) == nil
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Seed after cancel: err = %v, want context.Canceled", err)
	}
	found, err := Objects(context.Background(), db)
	if err != nil || len(found) != 0 {
		t.Errorf("after a cancelled Seed: objects %v (%v), want none", found, err)
	}
}
