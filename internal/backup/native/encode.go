package native

import (
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kind says how a column's values are written as SQL literals.
type kind uint8

const (
	// kindString: quoted and backslash-escaped, for every text type and for
	// the types the server sends as text (DATE, TIME, ENUM, JSON, INET6 …).
	kindString kind = iota
	// kindNumber: the value as the server formats it, unquoted (integers,
	// DECIMAL, YEAR, FLOAT/DOUBLE).
	kindNumber
	// kindBinary: a hexadecimal literal 0x…, or '' when empty (binary
	// strings, BLOBs, BIT, spatial types).
	kindBinary
)

// kindOf maps the driver's DatabaseTypeName of a result column to a kind.
// Binary-ness comes from the wire (charset binary), so a VARCHAR … CHARACTER
// SET binary is BINARY here, and TEXT is not BLOB.
func kindOf(databaseTypeName string) kind {
	switch strings.TrimPrefix(databaseTypeName, "UNSIGNED ") {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "DECIMAL", "YEAR", "FLOAT", "DOUBLE":
		return kindNumber
	case "BIT", "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB", "GEOMETRY", "VECTOR":
		return kindBinary
	default:
		return kindString
	}
}

// escapes maps each byte that must be escaped inside a quoted literal to the
// letter that follows the backslash (0 = copy as is). The same set as
// mysql_real_escape_string except '"', which needs no escape inside '…'.
// Newlines and carriage returns are escaped so every statement stays on one
// line; Ctrl-Z because Windows' clients read it as end of file.
var escapes = [256]byte{0: '0', '\n': 'n', '\r': 'r', 0x1a: 'Z', '\'': '\'', '\\': '\\'}

// appendQuoted appends s as a single-quoted string literal for a session
// without NO_BACKSLASH_ESCAPES (the dump's header guarantees that). Every
// byte sequence round-trips.
func appendQuoted(b, s []byte) []byte {
	b = slices.Grow(b, len(s)+2)
	b = append(b, '\'')
	start := 0
	for i, c := range s {
		if e := escapes[c]; e != 0 {
			b = append(b, s[start:i]...)
			b = append(b, '\\', e)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '\'')
}

// appendHex appends p as 0x…, or as an empty string literal when p is
// empty (0x alone is not SQL).
func appendHex(b, p []byte) []byte {
	if len(p) == 0 {
		return append(b, '\'', '\'')
	}
	b = append(b, '0', 'x')
	return hex.AppendEncode(b, p)
}

// appendFloat appends a DOUBLE (or a FLOAT read as DOUBLE) so that parsing it
// gives back the same bits: the shortest decimal that round-trips. -0 is
// written as -0e0 because the integer literal -0 is plain zero.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("encode value: %v has no SQL literal", f)
	}
	if f == 0 && math.Signbit(f) {
		return append(b, "-0e0"...), nil
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64), nil
}

// appendValue appends one value as an SQL literal. src is what
// go-sql-driver/mysql's text protocol hands out (with parseTime off): nil
// for NULL, int64/uint64 for integer and YEAR columns, float64 for DOUBLE
// (and FLOAT, which the dump reads as DOUBLE), and []byte for everything
// else, which k decides how to write. It is the one place that decides how
// a value is written, for the dump and for TableDigest alike.
func appendValue(b []byte, k kind, src any) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return append(b, "NULL"...), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		return appendFloat(b, v)
	case float32:
		return appendFloat(b, float64(v))
	case []byte:
		return appendBytes(b, k, v), nil
	case string:
		return appendBytes(b, k, []byte(v)), nil
	case time.Time:
		return b, fmt.Errorf("encode value: got a time.Time; the connection must not use parseTime")
	default:
		return b, fmt.Errorf("encode value: unsupported driver value of type %T", src)
	}
}

// appendBytes writes a non-NULL value the server sent as bytes.
func appendBytes(b []byte, k kind, v []byte) []byte {
	switch k {
	case kindNumber:
		if len(v) == 0 { // never sent for a number; keep the SQL valid
			return append(b, '\'', '\'')
		}
		if string(v) == "-0" {
			return append(b, "-0e0"...)
		}
		return append(b, v...)
	case kindBinary:
		return appendHex(b, v)
	default:
		return appendQuoted(b, v)
	}
}

// appendIdent appends name quoted with backticks.
func appendIdent(b []byte, name string) []byte {
	b = append(b, '`')
	for i := 0; i < len(name); i++ {
		if name[i] == '`' {
			b = append(b, '`')
		}
		b = append(b, name[i])
	}
	return append(b, '`')
}

// quoteString quotes s as a string literal (for SET statements and the
// like, in a session without NO_BACKSLASH_ESCAPES).
func quoteString(s string) string {
	return string(appendQuoted(nil, []byte(s)))
}
