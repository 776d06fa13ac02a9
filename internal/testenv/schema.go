package testenv

import (
	"database/sql"
	"testing"
)

// SchemaTables counts the tables and views of schema on db's server.
func SchemaTables(tb testing.TB, db *sql.DB, schema string) int {
	tb.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", schema).Scan(&n); err != nil {
		tb.Fatalf("count the tables of %s: %v", schema, err)
	}
	return n
}
