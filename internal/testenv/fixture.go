package testenv

import (
	"database/sql"
	"fmt"
	"testing"
)

// Snapshot describes every table, view and trigger of db's current database,
// with each base table's row count and CHECKSUM TABLE: two equal snapshots
// mean that nothing was created, dropped or changed in between. It is for
// small fixture databases (the checksum reads every row).
func Snapshot(tb testing.TB, db *sql.DB) map[string]string {
	tb.Helper()
	snap := map[string]string{}
	rows, err := db.Query(`SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
	                       UNION ALL SELECT TRIGGER_NAME, 'TRIGGER' FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`)
	if err != nil {
		tb.Fatalf("snapshot: list objects: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, kind string
		if err := rows.Scan(&name, &kind); err != nil {
			tb.Fatalf("snapshot: list objects: %v", err)
		}
		snap[name] = kind
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("snapshot: list objects: %v", err)
	}
	for name, kind := range snap {
		if kind != "BASE TABLE" {
			continue
		}
		var n int64
		var table string
		var sum sql.NullInt64
		if err := db.QueryRow("SELECT COUNT(*) FROM `" + name + "`").Scan(&n); err != nil {
			tb.Fatalf("snapshot: count %s: %v", name, err)
		}
		if err := db.QueryRow("CHECKSUM TABLE `"+name+"`").Scan(&table, &sum); err != nil {
			tb.Fatalf("snapshot: checksum %s: %v", name, err)
		}
		snap[name] = fmt.Sprintf("%s rows=%d checksum=%d", kind, n, sum.Int64)
	}
	return snap
}

// ExecAll runs each statement on db in order and fails the test at the
// first error: for building small fixtures.
func ExecAll(tb testing.TB, db *sql.DB, stmts ...string) {
	tb.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("%.80s: %v", s, err)
		}
	}
}

// POSDatabase returns a fresh database that looks like a real POS database
// (the kind the demo guard must refuse): products (a name the demo uses too)
// with 2 rows and django_migrations with 3, and nothing else.
func POSDatabase(tb testing.TB) (MySQLServer, string) {
	tb.Helper()
	s, name := MySQLDatabase(tb)
	ExecAll(tb, s.Open(tb, name),
		"CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(50))",
		"INSERT INTO products VALUES (1, 'Bocadillo de tortilla'), (2, 'Zumo')",
		"CREATE TABLE django_migrations (id INT PRIMARY KEY, app VARCHAR(50))",
		"INSERT INTO django_migrations VALUES (1, 'pos'), (2, 'auth'), (3, 'sessions')")
	return s, name
}
