package native

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

// ErrRowTooLarge means a row's INSERT statement is longer than
// max_allowed_packet: no client could load it, so the dump stops.
var ErrRowTooLarge = errors.New("row too large for max_allowed_packet")

// setPacketLimit reads the server's max_allowed_packet (unless
// Options.MaxAllowedPacket overrides it) and bounds multi-row statements
// below it.
func (d *dumper) setPacketLimit(ctx context.Context) error {
	d.maxPacket = d.opts.MaxAllowedPacket
	if d.maxPacket <= 0 {
		if err := d.conn.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&d.maxPacket); err != nil {
			return fmt.Errorf("read max_allowed_packet: %w", err)
		}
	}
	// The server counts the command byte that precedes the statement.
	d.stmtLimit = int(min(int64(d.opts.MaxStatementBytes), d.maxPacket-1))
	return nil
}

// tooBigRow is the error for row n of table m, whose INSERT statement
// would have size bytes. It names the row by number and, when the table's
// key is numeric, by key; no other value of the row goes into the message.
func tooBigRow(m *tableMeta, kinds []kind, vals []driver.Value, n, size, maxPacket int64) error {
	return fmt.Errorf("%s needs an INSERT statement of %d bytes, more than max_allowed_packet (%d): "+
		"no client could restore it (%w); raise max_allowed_packet on the server (and for the restoring client) "+
		"to at least %d, or make the value smaller, then run the backup again",
		rowLabel(m, kinds, vals, n), size, maxPacket, ErrRowTooLarge, size+1)
}

// rowLabel names row n (1-based, in dump order) of a table for an error:
// "row 7 (`id`=42)". Key values are shown only when every key column is a
// number, so no text or binary data reaches task errors or emails.
func rowLabel(m *tableMeta, kinds []kind, vals []driver.Value, n int64) string {
	label := "row " + strconv.FormatInt(n, 10)
	if len(m.order) == 0 {
		return label
	}
	var parts []string
	for _, k := range m.order {
		i := -1
		for j, c := range m.cols {
			if c.name == k {
				i = j
				break
			}
		}
		if i < 0 || i >= len(vals) || kinds[i] != kindNumber {
			return label
		}
		var v string
		switch x := vals[i].(type) {
		case int64:
			v = strconv.FormatInt(x, 10)
		case uint64:
			v = strconv.FormatUint(x, 10)
		case []byte:
			v = string(x)
		default:
			return label
		}
		parts = append(parts, mysqlx.QuoteIdent(k)+"="+v)
	}
	return label + " (" + strings.Join(parts, ", ") + ")"
}
