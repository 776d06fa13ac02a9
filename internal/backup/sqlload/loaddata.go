package sqlload

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"
)

// Rows through LOAD DATA LOCAL INFILE.
//
// The server parses an INSERT's VALUES as SQL: every literal becomes an
// expression item, is evaluated, and is then stored. LOAD DATA reads
// tab-separated fields and stores them directly, and measured on the demo
// POS's largest table (9.7 M rows) it took 26 % less server CPU than the
// same rows as 1 MiB INSERTs (14.0 s against 18.8 s). The parallel load
// therefore converts a native dump's INSERTs into LOAD DATA's text format
// on the client, for the tables where that conversion is exact:
//
//   - only the column types whose text form the server reads the same way
//     in both (integers, DECIMAL, DATE, DATETIME, TIMESTAMP, TIME, CHAR,
//     VARCHAR, the TEXT types, ENUM and SET); a table with any other
//     column keeps its INSERTs: FLOAT/DOUBLE, BIT, binary strings and
//     BLOBs, spatial, JSON, INET/UUID, and YEAR (whose number 0 is the
//     year 0000, but whose string '0' is 2000);
//   - only INSERTs with an explicit column list whose values are NULL,
//     numbers or quoted strings, under a session without
//     NO_BACKSLASH_ESCAPES; anything else in a statement sends that
//     statement as written;
//   - the rows are read in the connection's character set (the dump's SET
//     NAMES), so a column of another character set converts as an INSERT
//     into it would;
//   - LOAD DATA LOCAL skips duplicate keys where an INSERT would fail, so
//     each statement must report exactly the rows it was given, or the
//     load fails.
//
// The server must allow it (local_infile=ON, MariaDB's default); when it
// does not, every row goes as an INSERT and Stats.LocalInfile says so.

// errLocalInfileRefused: the server refused LOAD DATA LOCAL INFILE.
var errLocalInfileRefused = errors.New("the server refused LOAD DATA LOCAL INFILE")

// loadDataTypes are the DATA_TYPEs of information_schema.COLUMNS whose
// values the native dump writes as numbers or quoted strings that LOAD DATA
// stores exactly as an INSERT would.
var loadDataTypes = map[string]bool{
	"tinyint": true, "smallint": true, "mediumint": true, "int": true, "bigint": true, "decimal": true,
	"date": true, "datetime": true, "timestamp": true, "time": true,
	"char": true, "varchar": true, "tinytext": true, "text": true, "mediumtext": true, "longtext": true,
	"enum": true, "set": true,
}

// readerSeq makes each LOAD DATA's reader name unique in the process (the
// driver's registry is global).
var readerSeq atomic.Uint64

// loadDataEligible reports whether every column of table (in conn's
// current database) has a type of loadDataTypes, and the session reads
// statements in utf8mb4 (the dump's SET NAMES, which LOAD DATA's
// CHARACTER SET repeats).
func loadDataEligible(ctx context.Context, conn *sql.Conn, table string) (bool, error) {
	rows, err := conn.QueryContext(ctx,
		"SELECT DATA_TYPE, @@SESSION.character_set_client FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table)
	if err != nil {
		return false, fmt.Errorf("read the column types of %s: %w", table, err)
	}
	defer rows.Close()
	n := 0
	ok := true
	for rows.Next() {
		var t, cs string
		if err := rows.Scan(&t, &cs); err != nil {
			return false, fmt.Errorf("read the column types of %s: %w", table, err)
		}
		n++
		ok = ok && loadDataTypes[strings.ToLower(t)] && cs == "utf8mb4"
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("read the column types of %s: %w", table, err)
	}
	return ok && n > 0, nil
}

// loadData runs an INSERT of the native dump as LOAD DATA LOCAL INFILE on
// conn. done is false (and nothing was sent) when the statement is not in
// the form insertToTSV converts; then the caller sends the INSERT.
func loadData(ctx context.Context, conn *sql.Conn, stmt Statement, buf *[]byte) (rows int64, done bool, err error) {
	table, cols, tsv, n, ok := insertToTSV((*buf)[:0], stmt.Text)
	*buf = tsv[:0]
	if !ok {
		return 0, false, nil
	}
	name := "cantina-ops-" + strconv.FormatUint(readerSeq.Add(1), 10)
	mysql.RegisterReaderHandler(name, func() io.Reader { return bytes.NewReader(tsv) })
	defer mysql.DeregisterReaderHandler(name)
	q := "LOAD DATA LOCAL INFILE 'Reader::" + name + "' INTO TABLE " + string(table) +
		" CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (" + string(cols) + ")"
	res, err := conn.ExecContext(ctx, q)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return 0, true, fmt.Errorf("load stopped at statement %d: %w", stmt.Number, cerr)
		}
		var me *mysql.MySQLError
		if errors.As(err, &me) && (me.Number == 1148 || me.Number == 4166 || me.Number == 3948) {
			// ER_NOT_ALLOWED_COMMAND, MariaDB's
			// ER_LOAD_INFILE_CAPABILITY_DISABLED, MySQL 8's
			// ER_CLIENT_LOCAL_FILES_DISABLED: local_infile was turned off
			// since the load asked, or a proxy refuses it. Nothing was
			// loaded.
			return 0, false, errLocalInfileRefused
		}
		return 0, true, loadDataError(stmt, err)
	}
	got, err := res.RowsAffected()
	if err != nil {
		return 0, true, loadDataError(stmt, err)
	}
	if got != n {
		// LOAD DATA LOCAL skips a duplicate key with a warning: a restore
		// that loses a row must fail instead.
		return got, true, loadDataError(stmt, fmt.Errorf("%d of its %d rows were loaded (duplicate keys?)", got, n))
	}
	return n, true, nil
}

// loadDataError is statementError for an INSERT sent as LOAD DATA: the
// server's message loses its values, and says how the rows were sent.
func loadDataError(stmt Statement, err error) error {
	se := statementError(stmt, err).(*StatementError)
	se.Err = fmt.Errorf("as LOAD DATA LOCAL INFILE: %w", se.Err)
	return se
}

// insertToTSV converts an INSERT as the native dump writes it,
//
//	INSERT INTO `t` (`a`,`b`) VALUES (1,'x'),(NULL,'y\n')
//
// into the table name and column list as written, and the rows appended to
// dst in LOAD DATA's default format: fields separated by tabs, rows ended
// by newlines, NULL as \N, and backslash, tab, newline and NUL escaped with
// a backslash. ok is false for any other form (no column list, a hex or bit
// literal, an expression, a count of values that differs from the column
// list's), which the caller then sends as written.
func insertToTSV(dst, text []byte) (table, cols, out []byte, rows int64, ok bool) {
	p := text
	if !bytes.HasPrefix(p, []byte("INSERT INTO ")) {
		return nil, nil, dst, 0, false
	}
	p = p[len("INSERT INTO "):]
	n := identLen(p)
	if n == 0 {
		return nil, nil, dst, 0, false
	}
	table, p = text[len(text)-len(p):len(text)-len(p)+n], p[n:]
	if !bytes.HasPrefix(p, []byte(" (")) {
		return nil, nil, dst, 0, false
	}
	p = p[2:]
	colStart := len(text) - len(p)
	ncols := 0
	for {
		n := identLen(p)
		if n == 0 {
			return nil, nil, dst, 0, false
		}
		p = p[n:]
		ncols++
		if len(p) > 0 && p[0] == ',' {
			p = p[1:]
			continue
		}
		break
	}
	cols = text[colStart : len(text)-len(p)]
	if !bytes.HasPrefix(p, []byte(") VALUES ")) {
		return nil, nil, dst, 0, false
	}
	p = p[len(") VALUES "):]
	out = dst
	for {
		if len(p) == 0 || p[0] != '(' {
			return nil, nil, dst, 0, false
		}
		p = p[1:]
		for i := 0; i < ncols; i++ {
			if i > 0 {
				if len(p) == 0 || p[0] != ',' {
					return nil, nil, dst, 0, false
				}
				p = p[1:]
				out = append(out, '\t')
			}
			var good bool
			if out, p, good = appendField(out, p); !good {
				return nil, nil, dst, 0, false
			}
		}
		if len(p) == 0 || p[0] != ')' {
			return nil, nil, dst, 0, false
		}
		p = p[1:]
		out = append(out, '\n')
		rows++
		if len(p) == 0 {
			return table, cols, out, rows, true
		}
		if p[0] != ',' {
			return nil, nil, dst, 0, false
		}
		p = p[1:]
	}
}

// identLen is the length of the backquoted identifier p starts with
// (doubled backquotes inside), or 0.
func identLen(p []byte) int {
	if len(p) < 2 || p[0] != '`' {
		return 0
	}
	for i := 1; i < len(p); i++ {
		if p[i] != '`' {
			continue
		}
		if i+1 < len(p) && p[i+1] == '`' {
			i++
			continue
		}
		if i == 1 {
			return 0 // `` is not a name
		}
		return i + 1
	}
	return 0
}

// appendField converts the value literal p starts with and returns the rest
// of p; ok is false for a literal it does not convert.
func appendField(out, p []byte) ([]byte, []byte, bool) {
	switch {
	case len(p) == 0:
		return out, p, false
	case p[0] == '\'':
		return appendString(out, p[1:])
	case bytes.HasPrefix(p, []byte("NULL")):
		out, p = append(out, '\\', 'N'), p[4:]
		return out, p, len(p) == 0 || p[0] == ',' || p[0] == ')'
	}
	// A number as the server printed it: its text goes to the column
	// unchanged, as the INSERT's literal would.
	i := numberLen(p)
	// Whatever follows must end the value: 0x1F, b'1', an identifier
	// or an expression are not converted.
	if i == 0 || i < len(p) && p[i] != ',' && p[i] != ')' {
		return out, p, false
	}
	return append(out, p[:i]...), p[i:], true
}

// numberLen is the length of the number literal p starts with:
// -?digits(.digits)?([eE][-+]?digits)?, or 0.
func numberLen(p []byte) int {
	i := 0
	digits := func() int {
		n := 0
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(p) && p[i] == '-' {
		i++
	}
	if digits() == 0 {
		return 0
	}
	if i < len(p) && p[i] == '.' {
		i++
		if digits() == 0 {
			return 0
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '-' || p[i] == '+') {
			i++
		}
		if digits() == 0 {
			return 0
		}
	}
	return i
}

// appendString decodes the body of a quoted string literal (p starts after
// the opening quote) as the server reads it without NO_BACKSLASH_ESCAPES,
// and appends it escaped for LOAD DATA.
func appendString(out, p []byte) ([]byte, []byte, bool) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '\'':
			if i+1 < len(p) && p[i+1] == '\'' { // '' inside quotes
				out = append(out, '\'')
				i++
				continue
			}
			return out, p[i+1:], true
		case '\\':
			if i+1 == len(p) {
				return out, p, false
			}
			i++
			switch e := p[i]; e {
			case '0':
				out = append(out, '\\', '0')
			case 'n':
				out = append(out, '\\', 'n')
			case 't':
				out = append(out, '\\', 't')
			case '\\':
				out = append(out, '\\', '\\')
			case 'r':
				out = append(out, '\r')
			case 'b':
				out = append(out, '\b')
			case 'Z':
				out = append(out, 0x1a)
			case '%', '_':
				// The server keeps the backslash of \% and \_ (they
				// are LIKE escapes).
				out = append(out, '\\', '\\', e)
			default:
				c = e
				out = appendTSVByte(out, c)
			}
		default:
			out = appendTSVByte(out, c)
		}
	}
	return out, p, false // no closing quote
}

// appendTSVByte appends one byte of a field's value, escaped as LOAD DATA
// needs it.
func appendTSVByte(out []byte, c byte) []byte {
	switch c {
	case '\\':
		return append(out, '\\', '\\')
	case '\t':
		return append(out, '\\', 't')
	case '\n':
		return append(out, '\\', 'n')
	case 0:
		return append(out, '\\', '0')
	}
	return append(out, c)
}
