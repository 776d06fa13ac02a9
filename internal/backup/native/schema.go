package native

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

// Querier runs queries; *sql.DB, *sql.Conn and *sql.Tx satisfy it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// tableMeta is what the dump needs to know to read one base table.
type tableMeta struct {
	name string
	// cols are the columns whose values are dumped, in table order:
	// generated (VIRTUAL/STORED) columns are left out, invisible ones kept.
	cols []column
	// order is the primary key, else the first unique index over NOT NULL
	// columns; empty when the table has neither. Rows are read in this order.
	order []string
	// primary is the primary key's columns (none without one), indexes
	// the names of the other indexes, in SHOW INDEX order, and autoInc the
	// AUTO_INCREMENT column ("" if none): what deferKeys checks.
	primary []string
	indexes []string
	autoInc string
}

type column struct {
	name  string
	float bool // FLOAT: read as DOUBLE, since the server prints FLOAT with 6 digits
}

// loadTable reads a table's columns and keys with SHOW statements, which
// quote the name with backticks and so need no string escaping.
func loadTable(ctx context.Context, q Querier, table string) (*tableMeta, error) {
	m := &tableMeta{name: table}
	cols, err := showRows(ctx, q, "SHOW FULL COLUMNS FROM "+mysqlx.QuoteIdent(table))
	if err != nil {
		return nil, fmt.Errorf("read columns of %s: %w", table, err)
	}
	for _, c := range cols {
		if isGenerated(c["Extra"]) {
			continue
		}
		m.cols = append(m.cols, column{name: c["Field"], float: baseType(c["Type"]) == "float"})
	}
	for _, c := range cols {
		if strings.Contains(strings.ToLower(c["Extra"]), "auto_increment") {
			m.autoInc = c["Field"]
		}
	}
	if len(m.cols) == 0 {
		return nil, fmt.Errorf("read columns of %s: no stored columns", table)
	}
	keys, err := showRows(ctx, q, "SHOW INDEX FROM "+mysqlx.QuoteIdent(table))
	if err != nil {
		return nil, fmt.Errorf("read keys of %s: %w", table, err)
	}
	m.order = orderKey(keys)
	for _, k := range keys {
		switch name := k["Key_name"]; {
		case name == "PRIMARY":
			m.primary = append(m.primary, k["Column_name"])
		case !slices.Contains(m.indexes, name):
			m.indexes = append(m.indexes, name)
		}
	}
	return m, nil
}

// isGenerated reports whether SHOW COLUMNS' Extra marks a generated column:
// "VIRTUAL GENERATED", "STORED GENERATED" (also "PERSISTENT", "VIRTUAL" in
// old MariaDB), but not MySQL's "DEFAULT_GENERATED" (an expression default).
func isGenerated(extra string) bool {
	for _, w := range strings.Fields(strings.ToUpper(extra)) {
		switch w {
		case "VIRTUAL", "STORED", "PERSISTENT":
			return true
		}
	}
	return false
}

// baseType is a SHOW COLUMNS type without length and attributes:
// "float(7,4) unsigned" → "float".
func baseType(t string) string {
	t = strings.ToLower(t)
	if i := strings.IndexAny(t, "( "); i >= 0 {
		t = t[:i]
	}
	return t
}

// orderKey picks the columns to order rows by from SHOW INDEX rows (in the
// server's order: by index, then Seq_in_index): the primary key, else the
// first unique index whose columns are all NOT NULL (which InnoDB uses as its
// clustered index). Nil when there is none.
func orderKey(rows []map[string]string) []string {
	type index struct {
		cols    []string
		usable  bool
		primary bool
	}
	var names []string
	idx := map[string]*index{}
	for _, r := range rows {
		name := r["Key_name"]
		ix := idx[name]
		if ix == nil {
			ix = &index{usable: r["Non_unique"] == "0", primary: name == "PRIMARY"}
			idx[name] = ix
			names = append(names, name)
		}
		if r["Null"] == "YES" {
			ix.usable = false
		}
		ix.cols = append(ix.cols, r["Column_name"])
	}
	if ix := idx["PRIMARY"]; ix != nil && ix.primary {
		return ix.cols
	}
	for _, n := range names {
		if ix := idx[n]; ix.usable {
			return ix.cols
		}
	}
	return nil
}

// selectQuery reads a table's dumped columns, in key order when it has one.
func (m *tableMeta) selectQuery() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range m.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		if c.float {
			// FLOAT → DOUBLE is exact, and the server prints DOUBLE with
			// the shortest digits that round-trip.
			b.WriteString("(" + mysqlx.QuoteIdent(c.name) + "+0e0)")
		} else {
			b.WriteString(mysqlx.QuoteIdent(c.name))
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(mysqlx.QuoteIdent(m.name))
	if len(m.order) > 0 {
		b.WriteString(" ORDER BY ")
		for i, c := range m.order {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(mysqlx.QuoteIdent(c))
		}
	}
	return b.String()
}

// insertPrefix starts each INSERT statement of the table. The explicit
// column list leaves generated columns out and survives column reordering.
func (m *tableMeta) insertPrefix() []byte {
	b := append([]byte(nil), "INSERT INTO "...)
	b = appendIdent(b, m.name)
	b = append(b, " ("...)
	for i, c := range m.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendIdent(b, c.name)
	}
	return append(b, ") VALUES "...)
}

// showRows runs a query with few rows and returns them as maps from column
// name to text (NULL as ""): for SHOW statements, whose column sets differ
// between servers and versions.
func showRows(ctx context.Context, q Querier, query string) ([]map[string]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]sql.RawBytes, len(names))
	dest := make([]any, len(names))
	for i := range vals {
		dest[i] = &vals[i]
	}
	var out []map[string]string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		m := make(map[string]string, len(names))
		for i, n := range names {
			m[n] = string(vals[i])
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
