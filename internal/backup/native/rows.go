package native

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
)

// encodeRow appends one row as the tuple "(v1,v2,…)" the dump's INSERTs
// hold; kinds[i] says how to write vals[i].
func encodeRow(dst []byte, kinds []kind, vals []driver.Value) ([]byte, error) {
	dst = append(dst, '(')
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendValue(dst, kinds[i], v); err != nil {
			return dst, err
		}
	}
	return append(dst, ')'), nil
}

// rawRows reads a table through the driver directly, without
// database/sql's per-value conversions: the dump's hot loop. The driver's
// values point into its read buffer and are valid until the next row.
type rawRows struct {
	rows  driver.Rows
	kinds []kind
	vals  []driver.Value
}

func openRawRows(ctx context.Context, driverConn any, m *tableMeta) (*rawRows, error) {
	q, ok := driverConn.(driver.QueryerContext)
	if !ok {
		return nil, fmt.Errorf("the MySQL driver cannot run queries directly (%T)", driverConn)
	}
	// No arguments: go-sql-driver/mysql uses the text protocol, which
	// streams rows and sends every value as the server prints it.
	rows, err := q.QueryContext(ctx, m.selectQuery(), nil)
	if err != nil {
		return nil, err
	}
	typed, ok := rows.(driver.RowsColumnTypeDatabaseTypeName)
	if !ok {
		rows.Close()
		return nil, fmt.Errorf("the MySQL driver gives no column types (%T)", rows)
	}
	n := len(rows.Columns())
	r := &rawRows{rows: rows, kinds: make([]kind, n), vals: make([]driver.Value, n)}
	for i := range n {
		r.kinds[i] = kindOf(typed.ColumnTypeDatabaseTypeName(i))
	}
	return r, nil
}

// next reads a row into r.vals; false at the end.
func (r *rawRows) next() (bool, error) {
	switch err := r.rows.Next(r.vals); err {
	case nil:
		return true, nil
	case io.EOF:
		return false, nil
	default:
		return false, err
	}
}

// sqlRows reads a table through database/sql, for TableDigest, which may
// be handed a *sql.Tx. Each column is a sql.Scanner that keeps the
// driver's value as is, so the values are the ones rawRows sees.
type sqlRows struct {
	rows  *sql.Rows
	kinds []kind
	vals  []driver.Value
	dests []any
}

type keep struct{ v *driver.Value }

func (k keep) Scan(src any) error {
	*k.v = src
	return nil
}

func openSQLRows(ctx context.Context, q Querier, m *tableMeta) (*sqlRows, error) {
	rows, err := q.QueryContext(ctx, m.selectQuery())
	if err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	n := len(types)
	r := &sqlRows{rows: rows, kinds: make([]kind, n), vals: make([]driver.Value, n), dests: make([]any, n)}
	for i, t := range types {
		r.kinds[i] = kindOf(t.DatabaseTypeName())
		r.dests[i] = keep{&r.vals[i]}
	}
	return r, nil
}

func (r *sqlRows) next() (bool, error) {
	if !r.rows.Next() {
		return false, r.rows.Err()
	}
	return true, r.rows.Scan(r.dests...)
}
