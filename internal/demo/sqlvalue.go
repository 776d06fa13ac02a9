package demo

import (
	"strconv"
	"time"
)

// The append* functions write SQL literals for the bulk INSERTs, for a
// session whose sql_mode lacks NO_BACKSLASH_ESCAPES (Seed sets it so).

// appendString appends s as a quoted, escaped string literal. Any byte
// sequence round-trips, NUL and Ctrl-Z included.
func appendString(b []byte, s string) []byte {
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b = append(b, '\\', '0')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case 0x1a:
			b = append(b, '\\', 'Z')
		case '\\', '\'':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

// appendBlob appends p as a hexadecimal literal, X'…' (empty p gives an empty literal).
func appendBlob(b []byte, p []byte) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, 'X', '\'')
	for _, c := range p {
		b = append(b, hex[c>>4], hex[c&15])
	}
	return append(b, '\'')
}

// appendCents appends an amount in cents as a DECIMAL literal, e.g. -12.05.
func appendCents(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	b = append(b, '.', byte('0'+cents%100/10), byte('0'+cents%10))
	return b
}

// appendTime appends t as a quoted DATETIME(6)/TIMESTAMP(6) literal, in t's
// own location (Seed uses UTC, and a session time_zone of +00:00).
func appendTime(b []byte, t time.Time) []byte {
	return t.AppendFormat(b, "'2006-01-02 15:04:05.000000'")
}
