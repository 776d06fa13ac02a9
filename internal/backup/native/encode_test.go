package native

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

func TestAppendValue(t *testing.T) {
	tests := []struct {
		name string
		kind kind
		src  any
		want string
	}{
		{"NULL string column", kindString, nil, "NULL"},
		{"NULL blob column", kindBinary, nil, "NULL"},
		{"NULL number column", kindNumber, nil, "NULL"},
		{"empty string", kindString, []byte{}, "''"},
		{"empty blob", kindBinary, []byte{}, "''"},
		{"plain text", kindString, []byte("hello"), "'hello'"},
		{"quotes", kindString, []byte(`it's "x"`), `'it\'s "x"'`},
		{"backslash", kindString, []byte(`a\b\\`), `'a\\b\\\\'`},
		{"NUL", kindString, []byte("a\x00b"), `'a\0b'`},
		{"newline and CR", kindString, []byte("a\nb\r\n"), `'a\nb\r\n'`},
		{"ctrl-Z", kindString, []byte("\x1a"), `'\Z'`},
		{"tab and other controls kept", kindString, []byte("\t\x01\x7f"), "'\t\x01\x7f'"},
		{"utf8mb4 emoji", kindString, []byte("😀 é 漢"), "'😀 é 漢'"},
		{"backslash-quote pair", kindString, []byte(`\'`), `'\\\''`},
		{"date", kindString, []byte("2024-02-29"), "'2024-02-29'"},
		{"zero date", kindString, []byte("0000-00-00"), "'0000-00-00'"},
		{"zero datetime", kindString, []byte("0000-00-00 00:00:00"), "'0000-00-00 00:00:00'"},
		{"datetime(6)", kindString, []byte("2024-01-02 03:04:05.123456"), "'2024-01-02 03:04:05.123456'"},
		{"negative time", kindString, []byte("-838:59:59.000000"), "'-838:59:59.000000'"},
		{"json", kindString, []byte(`{"a": "x\"y"}`), `'{"a": "x\\"y"}'`},
		{"enum with quote", kindString, []byte("it's"), `'it\'s'`},
		{"set", kindString, []byte("x,z"), "'x,z'"},
		{"blob bytes", kindBinary, []byte{0, 0xff, '\'', '\\'}, "0x00ff275c"},
		{"bit(1)", kindBinary, []byte{1}, "0x01"},
		{"bit(64)", kindBinary, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "0xffffffffffffffff"},
		{"int64", kindNumber, int64(-9223372036854775808), "-9223372036854775808"},
		{"uint64", kindNumber, uint64(18446744073709551615), "18446744073709551615"},
		{"year zero", kindNumber, int64(0), "0"},
		{"decimal as text", kindNumber, []byte("-12345678901234567890123456789012345.123456789012345678901234567890"),
			"-12345678901234567890123456789012345.123456789012345678901234567890"},
		{"zerofill decimal", kindNumber, []byte("0000012.50"), "0000012.50"},
		{"negative zero text", kindNumber, []byte("-0"), "-0e0"},
		{"double 0.1", kindNumber, 0.1, "0.1"},
		{"double 1e-300", kindNumber, 1e-300, "1e-300"},
		{"double max", kindNumber, math.MaxFloat64, "1.7976931348623157e+308"},
		{"double min subnormal", kindNumber, 5e-324, "5e-324"},
		{"double -0", kindNumber, math.Copysign(0, -1), "-0e0"},
		{"double +0", kindNumber, 0.0, "0"},
		{"0.1+0.2", kindNumber, 0.30000000000000004, "0.30000000000000004"},
		{"float read as double", kindNumber, float64(float32(0.1)), "0.10000000149011612"},
		{"float32 max, widened", kindNumber, float64(float32(math.MaxFloat32)), "3.4028234663852886e+38"},
		{"float32 value", kindNumber, float32(16777217), "1.6777216e+07"},
		{"unknown kind quotes", kind(99), []byte("x'"), `'x\''`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendValue([]byte("prefix,"), tt.kind, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix,"+tt.want {
				t.Errorf("got %s, want %s", got[len("prefix,"):], tt.want)
			}
		})
	}
}

func TestAppendValueErrors(t *testing.T) {
	for name, src := range map[string]any{
		"NaN":       math.NaN(),
		"+Inf":      math.Inf(1),
		"time.Time": time.Now(),
		"bool":      true,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := appendValue(nil, kindNumber, src); err == nil {
				t.Errorf("no error for %v", src)
			}
		})
	}
}

// Every float64 written must parse back to the same bits (the server's
// parser is correctly rounded, like strconv).
func TestAppendFloatRoundTrips(t *testing.T) {
	vals := []float64{0.1, 1e-300, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, -1.5e-310, math.Pi, 1e21, 123456789012345678}
	for i := uint64(1); i < 1<<20; i = i*3 + 1 {
		vals = append(vals, math.Float64frombits(i*0x9E3779B97F4A7C15), float64(math.Float32frombits(uint32(i*2654435761))))
	}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		b, err := appendFloat(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := strconv.ParseFloat(string(b), 64)
		if err != nil || math.Float64bits(back) != math.Float64bits(v) {
			t.Errorf("%v written as %s reads back as %v (%v)", v, b, back, err)
		}
	}
}

// Quoted strings must read back byte for byte under MySQL's rules for
// backslash escapes; unquote is that reader.
func TestAppendQuotedRoundTrips(t *testing.T) {
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	for _, s := range []string{"", "'", "\\", "''", `\'`, "\x00\x00", string(all), "😀'\\\n"} {
		q := appendQuoted(nil, []byte(s))
		if got := unquote(t, string(q)); got != s {
			t.Errorf("%q quoted as %q reads back as %q", s, q, got)
		}
		if strings.ContainsAny(string(q[1:len(q)-1]), "\n\r\x00\x1a") {
			t.Errorf("%q quoted as %q keeps a raw control byte", s, q)
		}
	}
}

func unquote(t *testing.T, q string) string {
	t.Helper()
	if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		t.Fatalf("%q is not quoted", q)
	}
	var b strings.Builder
	body := q[1 : len(q)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case '\\':
			i++
			switch body[i] {
			case '0':
				b.WriteByte(0)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 'Z':
				b.WriteByte(0x1a)
			default:
				b.WriteByte(body[i])
			}
		case '\'':
			t.Fatalf("%q has an unescaped quote inside", q)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestKindOf(t *testing.T) {
	tests := map[string]kind{
		"TINYINT": kindNumber, "UNSIGNED BIGINT": kindNumber, "UNSIGNED MEDIUMINT": kindNumber, "INT": kindNumber,
		"DECIMAL": kindNumber, "YEAR": kindNumber, "FLOAT": kindNumber, "DOUBLE": kindNumber,
		"BIT": kindBinary, "BINARY": kindBinary, "VARBINARY": kindBinary, "TINYBLOB": kindBinary, "BLOB": kindBinary,
		"MEDIUMBLOB": kindBinary, "LONGBLOB": kindBinary, "GEOMETRY": kindBinary, "VECTOR": kindBinary,
		"CHAR": kindString, "VARCHAR": kindString, "TEXT": kindString, "LONGTEXT": kindString, "JSON": kindString,
		"ENUM": kindString, "SET": kindString, "DATE": kindString, "DATETIME": kindString, "TIMESTAMP": kindString,
		"TIME": kindString, "": kindString,
	}
	for name, want := range tests {
		if got := kindOf(name); got != want {
			t.Errorf("kindOf(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestQuoteIdent(t *testing.T) {
	tests := map[string]string{
		"order":       "`order`",
		"we`ird name": "`we``ird name`",
		"tëst.tbl":    "`tëst.tbl`",
		"``":          "``````",
	}
	for in, want := range tests {
		if got := mysqlx.QuoteIdent(in); got != want {
			t.Errorf("mysqlx.QuoteIdent(%q) = %s, want %s", in, got, want)
		}
		if got := string(appendIdent(nil, in)); got != want {
			t.Errorf("appendIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestIsGenerated(t *testing.T) {
	tests := map[string]bool{
		"":                  false,
		"auto_increment":    false,
		"VIRTUAL GENERATED": true,
		"STORED GENERATED":  true,
		"PERSISTENT":        true,
		"DEFAULT_GENERATED": false,
		"DEFAULT_GENERATED on update CURRENT_TIMESTAMP": false,
		"on update current_timestamp()":                 false,
		"INVISIBLE":                                     false,
	}
	for extra, want := range tests {
		if got := isGenerated(extra); got != want {
			t.Errorf("isGenerated(%q) = %v, want %v", extra, got, want)
		}
	}
}

func TestOrderKey(t *testing.T) {
	idx := func(name, nonUnique, col, null string) map[string]string {
		return map[string]string{"Key_name": name, "Non_unique": nonUnique, "Column_name": col, "Null": null}
	}
	tests := []struct {
		name string
		rows []map[string]string
		want []string
	}{
		{"none", nil, nil},
		{"primary, in key order", []map[string]string{idx("PRIMARY", "0", "b", ""), idx("PRIMARY", "0", "a", "")}, []string{"b", "a"}},
		{"primary wins over an earlier unique", []map[string]string{idx("u", "0", "x", ""), idx("PRIMARY", "0", "id", "")}, []string{"id"}},
		{"unique not null", []map[string]string{idx("k", "1", "z", ""), idx("u", "0", "g", ""), idx("u", "0", "w", "")}, []string{"g", "w"}},
		{"unique with a nullable column is no key", []map[string]string{idx("u", "0", "g", ""), idx("u", "0", "w", "YES")}, nil},
		{"non-unique is no key", []map[string]string{idx("k", "1", "z", "")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := orderKey(tt.rows)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") || (got == nil) != (tt.want == nil) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSelectQueryAndInsertPrefix(t *testing.T) {
	m := &tableMeta{name: "we`ird", cols: []column{{name: "id"}, {name: "f", float: true}, {name: "order"}}, order: []string{"id"}}
	if got, want := m.selectQuery(), "SELECT `id`,(`f`+0e0),`order` FROM `we``ird` ORDER BY `id`"; got != want {
		t.Errorf("selectQuery = %s, want %s", got, want)
	}
	if got, want := string(m.insertPrefix()), "INSERT INTO `we``ird` (`id`,`f`,`order`) VALUES "; got != want {
		t.Errorf("insertPrefix = %s, want %s", got, want)
	}
	m.order = nil
	if got := m.selectQuery(); strings.Contains(got, "ORDER BY") {
		t.Errorf("no key but %s", got)
	}
}

func TestDigestOrderIndependentWithoutKey(t *testing.T) {
	unordered := &tableMeta{name: "t", cols: []column{{name: "a"}}}
	ordered := &tableMeta{name: "t", cols: []column{{name: "a"}}, order: []string{"a"}}
	sum := func(m *tableMeta, rows ...string) string {
		d := newDigest(m)
		for _, r := range rows {
			d.row([]byte(r))
		}
		return d.hex()
	}
	if sum(unordered, "(1)", "(2)", "(2)") != sum(unordered, "(2)", "(1)", "(2)") {
		t.Errorf("unordered digest depends on order")
	}
	if sum(unordered, "(1)", "(2)", "(2)") == sum(unordered, "(1)", "(2)") {
		t.Errorf("unordered digest ignores a duplicate row")
	}
	if sum(ordered, "(1)", "(2)") == sum(ordered, "(2)", "(1)") {
		t.Errorf("ordered digest ignores order")
	}
	renamed := &tableMeta{name: "t", cols: []column{{name: "b"}}, order: []string{"b"}}
	if sum(ordered, "(1)") == sum(renamed, "(1)") {
		t.Errorf("digest ignores column names")
	}
}

func TestDelimiterFor(t *testing.T) {
	tests := []struct{ name, stmt, want string }{
		{"plain body", "BEGIN SELECT 1; END", ";;"},
		{";; in a string", "BEGIN SELECT 'a;;b'; END", "$$"},
		{"body ends with ;", "SELECT 1 #;", ";;"},
		{"body ends with ;;", "SELECT 1 -- x;;", "$$"},
		{"body ends with $", "SELECT ';;' -- $", "$$"},
		{"$$ inside", "SELECT '$$', ';;' -- //", "%%"},
		{"all short ones", "';;' '$$' '//' '%%' '##'", "$$1$$"},
		{"numbered one too", "';;' '$$' '//' '%%' '##' '$$1$$'", "$$2$$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := delimiterFor(tt.stmt)
			if got != tt.want {
				t.Errorf("delimiterFor(%q) = %s, want %s", tt.stmt, got, tt.want)
			}
			// As written, the delimiter's first occurrence is after the body.
			if text := tt.stmt + compoundEnd + got; strings.Index(text, got) != len(tt.stmt)+len(compoundEnd) {
				t.Errorf("delimiter %s occurs early in %q", got, text)
			}
		})
	}
}

func TestStripDefiner(t *testing.T) {
	tests := []struct{ in, want string }{
		{"CREATE DEFINER=`root`@`localhost` PROCEDURE `p`() SELECT 1", "CREATE PROCEDURE `p`() SELECT 1"},
		{"CREATE ALGORITHM=UNDEFINED DEFINER=`u`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1",
			"CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1"},
		{"CREATE DEFINER=`we``ird`@`h st` TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 'DEFINER=`x`@`y`'",
			"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 'DEFINER=`x`@`y`'"},
		{"CREATE DEFINER='u'@'h' EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1"},
		{"CREATE DEFINER=`role_only` FUNCTION f() RETURNS INT RETURN 1", "CREATE FUNCTION f() RETURNS INT RETURN 1"},
		{"CREATE DEFINER=CURRENT_USER() PROCEDURE p() SELECT 1", "CREATE PROCEDURE p() SELECT 1"},
		{"CREATE DEFINER = root@localhost PROCEDURE p() SELECT 1", "CREATE PROCEDURE p() SELECT 1"},
		{"create or replace definer=`a`@`b` view v as select 1", "create or replace view v as select 1"},
		{"CREATE PROCEDURE p() SELECT 'DEFINER=`x`@`y`'", "CREATE PROCEDURE p() SELECT 'DEFINER=`x`@`y`'"},
		{"CREATE DEFINER=`unterminated PROCEDURE", "CREATE DEFINER=`unterminated PROCEDURE"},
		{"SELECT 1", "SELECT 1"},
	}
	for _, tt := range tests {
		if got := stripDefiner(tt.in); got != tt.want {
			t.Errorf("stripDefiner(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
