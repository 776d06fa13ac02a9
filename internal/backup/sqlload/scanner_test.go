package sqlload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// split runs a Scanner over in, read n bytes at a time through a buffer
// that starts at bufSize bytes (0: the default).
func split(tb testing.TB, in []byte, sqlMode string, n, bufSize int) ([]Statement, error) {
	tb.Helper()
	s := NewScanner(&chunkReader{b: in, n: n})
	if bufSize > 0 {
		s.buf = make([]byte, bufSize)
		s.minFree = max(1, bufSize/2)
	}
	s.SetSQLMode(sqlMode)
	var out []Statement
	for s.Scan() {
		st := s.Statement()
		st.Text = bytes.Clone(st.Text)
		out = append(out, st)
	}
	return out, s.Err()
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

func texts(sts []Statement) []string {
	out := []string{}
	for _, s := range sts {
		out = append(out, string(s.Text))
	}
	return out
}

func TestScannerSplits(t *testing.T) {
	tests := []struct {
		name string
		in   string
		mode string
		want []string
	}{
		{"simple", "SELECT 1; SELECT 2;", "", []string{"SELECT 1", "SELECT 2"}},
		{"semicolon in strings", `SELECT 'a;b'; SELECT "c;d";`, "", []string{`SELECT 'a;b'`, `SELECT "c;d"`}},
		{"backslash-escaped quote", `SELECT 'it\'s;', "a\";"; SELECT 2;`, "", []string{`SELECT 'it\'s;', "a\";"`, "SELECT 2"}},
		{"escaped backslash before quote", `SELECT 'a\\'; SELECT 2;`, "", []string{`SELECT 'a\\'`, "SELECT 2"}},
		{"doubled quotes", `SELECT 'it''s;', "say ""hi;""";SELECT 2;`, "", []string{`SELECT 'it''s;', "say ""hi;"""`, "SELECT 2"}},
		{"backtick identifiers take no escapes", "SELECT `a;b`, `c\\`; SELECT `x``;y`;", "", []string{"SELECT `a;b`, `c\\`", "SELECT `x``;y`"}},
		{"comment markers in strings", `SELECT '-- x;', '# y;', '/* z;'; SELECT 2;`, "", []string{`SELECT '-- x;', '# y;', '/* z;'`, "SELECT 2"}},
		{"line comments", "-- a; b\nSELECT 1; # c; d\nSELECT 2 -- e;\n;", "", []string{"SELECT 1", "SELECT 2 -- e;"}},
		{"hash comment without space", "#x;\nSELECT 1;", "", []string{"SELECT 1"}},
		{"block comments", "/* a; */ SELECT /* b; */ 2; /* c */;", "", []string{"SELECT /* b; */ 2"}},
		{"double dash without space is an operator", "SELECT 1--1;", "", []string{"SELECT 1--1"}},
		{"double dash at end of line is a comment", "SELECT 1 --\n;", "", []string{"SELECT 1 --"}},
		{"double dash line at statement start", "--x; SELECT 5;\nSELECT 6;", "", []string{"SELECT 6"}},
		{"double dash line inside a statement", "SELECT 1\n--1;", "", []string{"SELECT 1\n--1"}},
		{"executable comments are statements", "/*!40101 SET NAMES utf8mb4 */;\n/*M!100101 SET @x=1 */;", "", []string{"/*!40101 SET NAMES utf8mb4 */", "/*M!100101 SET @x=1 */"}},
		{"delimiter in executable comment", "/*!50003 SET a=1; */;", "", []string{"/*!50003 SET a=1", "*/"}},
		{"DELIMITER blocks", "DELIMITER ;;\nCREATE TRIGGER t BEGIN SET a=1; SET b=2; END ;;\nDELIMITER ;\nSELECT 1;",
			"", []string{"CREATE TRIGGER t BEGIN SET a=1; SET b=2; END", "SELECT 1"}},
		{"delimiter lower case, quoted", "delimiter '$$'\nSELECT 1$$\nSELECT 2$$", "", []string{"SELECT 1", "SELECT 2"}},
		{"delimiter after white space and comments", "  \n-- c\n/* d */\n  DELIMITER //\nSELECT 1//", "", []string{"SELECT 1"}},
		{"delimiter in a string", "DELIMITER //\nSELECT '//', \"//\" //\n", "", []string{`SELECT '//', "//"`}},
		{"multi-byte delimiter prefix", "DELIMITER ;;\nSELECT 1; SELECT 2;;", "", []string{"SELECT 1; SELECT 2"}},
		{"DELIMITER inside a statement is text", "SELECT 1\nDELIMITER ;;\n;", "", []string{"SELECT 1\nDELIMITER"}},
		{"DELIMITER after a statement on its line is text", "SELECT 1; DELIMITER //\nSELECT 2//;", "", []string{"SELECT 1", "DELIMITER //\nSELECT 2//"}},
		{"CRLF", "SELECT 1;\r\nDELIMITER ;;\r\nSELECT 2;;\r\nDELIMITER ;\r\nSELECT 'a\r\nb';\r\n", "",
			[]string{"SELECT 1", "SELECT 2", "SELECT 'a\r\nb'"}},
		{"last statement without delimiter", "SELECT 1;\nSELECT 2\n\n", "", []string{"SELECT 1", "SELECT 2"}},
		{"last statement ends in a comment", "SELECT 1 -- c", "", []string{"SELECT 1 -- c"}},
		{"empty statements", ";;; SELECT 1;;\n;", "", []string{"SELECT 1"}},
		{"USE line without delimiter", "use db\nSELECT 1;\nUSE `x y`;", "", []string{"use db", "SELECT 1", "USE `x y`"}},
		{"USE line with CRLF", "USE db\r\nSELECT 1;", "", []string{"USE db", "SELECT 1"}},
		{"user is not use", "user_table;", "", []string{"user_table"}},
		{"byte order mark", "\xEF\xBB\xBFSELECT 1;", "", []string{"SELECT 1"}},
		{"byte order mark, then DELIMITER", "\xEF\xBB\xBFDELIMITER //\nSELECT 1//", "", []string{"SELECT 1"}},
		{"sandbox marker", "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump\n/*!40101 SET @a=1 */;", "", []string{"/*!40101 SET @a=1 */"}},
		{"division and multiplication", "SELECT 4/2, 2*/*c*/3, a-1, b - -1;", "", []string{"SELECT 4/2, 2*/*c*/3, a-1, b - -1"}},
		{"backslash outside strings protects the next byte", `SELECT \; 1;`, "", []string{`SELECT \; 1`}},
		{"binary and utf8mb4", "SELECT 'caf\xc3\xa9 😀', 0x00FF, '\x00\xff';", "", []string{"SELECT 'caf\xc3\xa9 😀', 0x00FF, '\x00\xff'"}},
		{"NO_BACKSLASH_ESCAPES", `SELECT 'a\'; SELECT "b\";`, "STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES", []string{`SELECT 'a\'`, `SELECT "b\"`}},
		{"ANSI_QUOTES", `SELECT "a\"; SELECT 'b\';';`, "ANSI_QUOTES", []string{`SELECT "a\"`, `SELECT 'b\';'`}},
		{"ANSI implies ANSI_QUOTES", `SELECT "a\"; SELECT 1;`, "ANSI", []string{`SELECT "a\"`, "SELECT 1"}},
		{"only comments", "-- a\n# b\n/* c */\n", "", []string{}},
		{"empty input", "", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{1 << 20, 1, 2, 3, 7} {
				got, err := split(t, []byte(tt.in), tt.mode, n, 0)
				if err != nil {
					t.Fatalf("reads of %d: %v", n, err)
				}
				if !reflect.DeepEqual(texts(got), tt.want) {
					t.Fatalf("reads of %d bytes:\n got %q\nwant %q", n, texts(got), tt.want)
				}
			}
		})
	}
}

func TestScannerPositions(t *testing.T) {
	in := "\n-- c\nSELECT\n1;\n  SELECT 'a\nb'\n;\nDELIMITER ;;\nuse x\nSELECT 3"
	got, err := split(t, []byte(in), "", 1<<20, 0)
	if err != nil {
		t.Fatal(err)
	}
	type pos struct {
		Number, Line, Offset, End int64
		Terminated                bool
	}
	want := []pos{
		{1, 3, 6, 15, true},  // SELECT\n1;
		{2, 5, 18, 32, true}, // SELECT 'a\nb'\n;
		{3, 9, 46, 52, true}, // use x line
		{4, 10, 52, 60, false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d statements %q, want %d", len(got), texts(got), len(want))
	}
	for i, st := range got {
		p := pos{st.Number, st.Line, st.Offset, st.End, st.Terminated}
		if p != want[i] {
			t.Errorf("statement %d: got %+v, want %+v", i+1, p, want[i])
		}
		if txt := in[st.Offset : st.Offset+int64(len(st.Text))]; txt != string(st.Text) {
			t.Errorf("statement %d: text %q is not the input at its offset (%q)", i+1, st.Text, txt)
		}
	}
}

func TestScannerErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int64
		msg      string
		before   []string // statements returned before the error
	}{
		{"unterminated string", "SELECT 1;\nSELECT 'abc;\n", 3, "inside a '…' string opened on line 2", []string{"SELECT 1"}},
		{"unterminated identifier", "SELECT `abc", 1, "inside a `…` identifier opened on line 1", nil},
		{"unterminated comment", "SELECT 1; /* abc\n\n", 3, "inside a /* comment opened on line 1", []string{"SELECT 1"}},
		{"DELIMITER without argument", "SELECT 1;\nDELIMITER\nSELECT 2;", 2, "DELIMITER must be followed", []string{"SELECT 1"}},
		{"DELIMITER with backslash", "DELIMITER \\\\\n", 1, "cannot contain a backslash", nil},
		{"DELIMITER with unterminated quote", "DELIMITER 'ab\n", 1, "DELIMITER must be followed", nil},
		{"DELIMITER too long", "DELIMITER 0123456789abcdef\n", 1, "longer than 15", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{1 << 20, 1} {
				got, err := split(t, []byte(tt.in), "", n, 0)
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("got error %v, want a *SyntaxError", err)
				}
				if se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
					t.Errorf("got %v, want line %d and %q", se, tt.line, tt.msg)
				}
				if g := texts(got); len(g) != len(tt.before) || (len(g) > 0 && !reflect.DeepEqual(g, tt.before)) {
					t.Errorf("statements before the error: got %q, want %q", g, tt.before)
				}
			}
		})
	}
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("boom")
	s := NewScanner(io.MultiReader(strings.NewReader("SELECT 1; SELECT"), &errReader{boom}))
	var got []string
	for s.Scan() {
		got = append(got, string(s.Statement().Text))
	}
	if !errors.Is(s.Err(), boom) || !reflect.DeepEqual(got, []string{"SELECT 1"}) {
		t.Fatalf("got %q, %v; want [SELECT 1], boom", got, s.Err())
	}
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

func TestScannerLongStatementsAcrossBuffers(t *testing.T) {
	// Extended INSERTs of ~1.5 MiB each, as mysqldump writes them, with
	// strings full of delimiters and quotes: far larger than the buffer.
	var in bytes.Buffer
	var want []string
	for s := range 3 {
		var stmt bytes.Buffer
		stmt.WriteString("INSERT INTO `t` VALUES ")
		for i := 0; stmt.Len() < 1500<<10; i++ {
			if i > 0 {
				stmt.WriteByte(',')
			}
			fmt.Fprintf(&stmt, "(%d,'row;%d \\'x\\' -- /* # ;; ',0x%04X)", i, s, i)
		}
		want = append(want, stmt.String())
		in.Write(stmt.Bytes())
		in.WriteString(";\n")
	}
	for _, bufSize := range []int{0, 64} {
		got, err := split(t, in.Bytes(), "", 4096, bufSize)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(texts(got), want) {
			t.Fatalf("buffer %d: statements differ (got %d)", bufSize, len(got))
		}
	}
}

func TestScannerOversize(t *testing.T) {
	long := "INSERT INTO t VALUES ('" + strings.Repeat("x;", 5000) + "')"
	in := "SELECT 1;\n" + long + ";\nSELECT 2;"
	s := NewScanner(&chunkReader{b: []byte(in), n: 100})
	s.buf = make([]byte, 64)
	s.minFree = 32
	s.SetMaxStatement(1000)
	var got []Statement
	for s.Scan() {
		st := s.Statement()
		st.Text = bytes.Clone(st.Text)
		got = append(got, st)
	}
	if s.Err() != nil || len(got) != 3 {
		t.Fatalf("got %q, %v", texts(got), s.Err())
	}
	if st := got[1]; !st.Oversize || st.Size != int64(len(long)) || string(st.Text) != long[:snippetLen] || st.Line != 2 {
		t.Errorf("oversize statement: %+v", st)
	}
	if !got[1].Oversize || got[2].Oversize || string(got[2].Text) != "SELECT 2" {
		t.Errorf("statements after an oversize one: %q", texts(got))
	}
	if cap(s.buf) > 4096 {
		t.Errorf("buffer grew to %d bytes for a limit of 1000", cap(s.buf))
	}
}

func TestDelimiterArg(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{" ;;", ";;", true},
		{"\t$$ trailing", "$$", true},
		{" //\t", "//\t", true}, // the client stops an unquoted argument at a space only
		{" '$$'", "$$", true},
		{` "a""b"`, `a"b`, true},
		{` 'a\'b'`, `a'b`, true},
		{" `x y`", "x y", true},
		{"", "", false},
		{"   ", "", false},
		{" ''", "", false},
		{" 'ab", "", false},
	}
	for _, tt := range tests {
		got, ok := delimiterArg([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("delimiterArg(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// refStatement is what refSplit finds.
type refStatement struct {
	Text              string
	Line, Offset, End int64
	Terminated        bool
}

// refSplit is a second, deliberately different implementation of the
// splitting rules: it holds the whole input and walks it line by line, as
// the mysql client's read_and_execute/add_line do, never looking past the
// end of a line. The Scanner must agree with it on every input, however
// the input is chunked.
func refSplit(in []byte, sqlMode string) ([]refStatement, error) {
	probe := NewScanner(nil)
	probe.SetSQLMode(sqlMode)
	noBackslash, ansi := probe.noBackslash, probe.ansiQuotes
	delim := []byte(";")
	var out []refStatement
	var quote byte
	var openLine int64
	comment, has := false, false
	start, startLine := 0, int64(0)
	emit := func(at, end int, terminated bool) {
		text := bytes.TrimRight(in[start:at], " \t\n\r\v\f")
		out = append(out, refStatement{string(text), startLine, int64(start), int64(end), terminated})
		has = false
	}
	lineNo := int64(0)
	for ls := 0; ls < len(in) || (ls == 0 && len(in) == 0); {
		lineNo++
		le := bytes.IndexByte(in[ls:], '\n')
		next := len(in)
		if le < 0 {
			le = len(in)
		} else {
			le += ls
			next = le + 1
		}
		p := ls
		if lineNo == 1 && bytes.HasPrefix(in, []byte("\xEF\xBB\xBF")) {
			p += 3
		}
		if !has && !comment && quote == 0 {
			q := p
			for q < le && isSpace(in[q]) {
				q++
			}
			line := bytes.TrimSuffix(in[q:le], []byte{'\r'})
			word := ""
			if sp := bytes.IndexAny(line, " \t"); sp >= 0 {
				word = strings.ToLower(string(line[:sp]))
			} else {
				word = strings.ToLower(string(line))
			}
			switch {
			case word == "delimiter":
				d, ok := delimiterArg(line[len(word):])
				switch {
				case !ok:
					return out, &SyntaxError{lineNo, "DELIMITER must be followed by a 'delimiter' character or string"}
				case strings.Contains(d, `\`):
					return out, &SyntaxError{lineNo, "DELIMITER cannot contain a backslash character"}
				case len(d) > maxDelimiter:
					return out, &SyntaxError{lineNo, fmt.Sprintf("DELIMITER %q is longer than %d bytes", d, maxDelimiter)}
				}
				delim = []byte(d)
				ls = next
				continue
			case word == "use" && !bytes.Contains(line, delim) && !bytes.Contains(line, []byte(`\g`)):
				text := bytes.TrimRight(line, " \t\r\v\f")
				out = append(out, refStatement{string(text), lineNo, int64(q), int64(next), true})
				ls = next
				continue
			}
		}
		at := func(i int) byte {
			if i < le {
				return in[i]
			}
			return 0
		}
	chars:
		for i := p; i < le; i++ {
			c := in[i]
			switch {
			case quote != 0:
				if c == '\\' && quote != '`' && !(quote == '"' && ansi) && !noBackslash {
					i++
				} else if c == quote {
					quote = 0
				}
			case comment:
				if c == '*' && at(i+1) == '/' {
					comment = false
					i++
				}
			case !has && isSpace(c):
			case !has && bytes.HasPrefix(in[i:], []byte(sandboxMarker)):
				comment, openLine = true, lineNo
				i += len(sandboxMarker) - 1
			case c == '\\':
				if !has {
					has, start, startLine = true, i, lineNo
				}
				i++
			case bytes.HasPrefix(in[i:le], delim):
				if has {
					emit(i, i+len(delim), true)
				}
				i += len(delim) - 1
			case c == '#', c == '-' && at(i+1) == '-' && (!has || i+2 >= le || isSpace(in[i+2])):
				break chars
			case c == '/' && at(i+1) == '*' && !(at(i+2) == '!' || at(i+2) == 'M' && at(i+3) == '!'):
				comment, openLine = true, lineNo
				i++
			default:
				if !has {
					has, start, startLine = true, i, lineNo
				}
				if c == '\'' || c == '"' || c == '`' {
					quote, openLine = c, lineNo
				}
			}
		}
		if le == len(in) {
			break
		}
		ls = next
	}
	last := 1 + int64(bytes.Count(in, []byte{'\n'}))
	switch {
	case quote != 0:
		kind := map[byte]string{'\'': "'…' string", '"': `"…" string`, '`': "`…` identifier"}[quote]
		return out, &SyntaxError{last, fmt.Sprintf("input ends inside a %s opened on line %d (truncated file?)", kind, openLine)}
	case comment:
		return out, &SyntaxError{last, fmt.Sprintf("input ends inside a /* comment opened on line %d (truncated file?)", openLine)}
	case has:
		emit(len(in), len(in), false)
	}
	return out, nil
}

func toRef(sts []Statement) []refStatement {
	out := []refStatement{}
	for _, s := range sts {
		out = append(out, refStatement{string(s.Text), s.Line, s.Offset, s.End, s.Terminated})
	}
	return out
}

// checkAgainstReference compares the Scanner, fed in several ways, with
// refSplit, and checks that every statement's text is the input at its
// offset.
func checkAgainstReference(t *testing.T, in []byte, sqlMode string) {
	t.Helper()
	want, wantErr := refSplit(in, sqlMode)
	if want == nil {
		want = []refStatement{}
	}
	for _, c := range []struct{ n, buf int }{{1 << 20, 0}, {1, 1}, {2, 3}, {3, 8}, {17, 5}} {
		got, err := split(t, in, sqlMode, c.n, c.buf)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("input %q, reads of %d, buffer %d: error %v, reference %v", in, c.n, c.buf, err, wantErr)
		}
		if g := toRef(got); !reflect.DeepEqual(g, want) {
			t.Fatalf("input %q, reads of %d, buffer %d:\n got %+v\nwant %+v", in, c.n, c.buf, g, want)
		}
		for _, st := range got {
			if !bytes.Equal(in[st.Offset:st.Offset+int64(len(st.Text))], st.Text) {
				t.Fatalf("input %q: statement %d text %q is not the input at offset %d", in, st.Number, st.Text, st.Offset)
			}
		}
	}
}

// seeds are the table tests' inputs and a slice of a real mariadb-dump.
func seeds() []string {
	return []string{
		"SELECT 1; SELECT 2;", `SELECT 'it\'s;', "a\";"; SELECT 2;`, `SELECT 'it''s;';`,
		"SELECT `a;b`, `c\\`;", "-- a; b\nSELECT 1; # c; d\nSELECT 2 -- e;\n;", "SELECT 1--1;",
		"--x; SELECT 5;\nSELECT 6;", "/*!40101 SET NAMES utf8mb4 */;\n/*M!100101 SET @x=1 */;",
		"DELIMITER ;;\nCREATE TRIGGER t BEGIN SET a=1; END ;;\nDELIMITER ;\nSELECT 1;",
		"delimiter '$$'\nSELECT 1$$", "SELECT 1;\r\nDELIMITER ;;\r\nSELECT 2;;\r\n", "use db\nSELECT 1;",
		"\xEF\xBB\xBFSELECT 1;", "SELECT 'abc", "/* x", "DELIMITER\n", `SELECT \; 1;`,
		"/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19\n--\n/*!40101 SET @OLD=@@X */;\n" +
			"INSERT INTO `t` VALUES\n(1,'a;b',0x00FF),\n(2,'it\\'s \\\\ \\\"q\\\"',NULL),\n(3,'😀','');\n" +
			"DELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`u`@`%`*/ /*!50003 trigger tr before insert on t for each row begin set new.s = concat(new.s, ''); end \n*/;;\n" +
			"DELIMITER ;\n-- Dump completed on 2026-01-01 00:00:00\n",
	}
}

func TestScannerMatchesReference(t *testing.T) {
	for _, s := range seeds() {
		for _, mode := range []string{"", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES"} {
			checkAgainstReference(t, []byte(s), mode)
		}
	}
}

// FuzzScanner checks, on any input, that the streaming Scanner agrees with
// the line-based reference however the input is chunked and however small
// its buffer, and that statements are exact slices of the input.
func FuzzScanner(f *testing.F) {
	for _, s := range seeds() {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, m uint8) {
		mode := []string{"", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES"}[m%4]
		checkAgainstReference(t, in, mode)
	})
}

func TestScannerLongStringsWithEscapesAndLineBreaks(t *testing.T) {
	body := strings.Repeat("a\\'\nb\\\\", 100_000) + strings.Repeat("x", 1000)
	in := "SELECT '" + body + "';\nSELECT 2;"
	for _, n := range []int{1 << 20, 1000, 7} {
		got, err := split(t, []byte(in), "", n, 0)
		if err != nil || len(got) != 2 {
			t.Fatalf("reads of %d: %d statements, %v", n, len(got), err)
		}
		if got[1].Line != 100_002 || string(got[0].Text) != "SELECT '"+body+"'" {
			t.Errorf("reads of %d: second statement on line %d, want 100002", n, got[1].Line)
		}
	}
}

func TestScannerOversizeWithinTheBuffer(t *testing.T) {
	s := NewScanner(strings.NewReader("SELECT '" + strings.Repeat("y", 2000) + "'; SELECT 2;"))
	s.SetMaxStatement(1000)
	if !s.Scan() || !s.Statement().Oversize || s.Statement().Size != 2009 || len(s.Statement().Text) != snippetLen {
		t.Fatalf("first statement: %+v", s.Statement())
	}
	if !s.Scan() || s.Statement().Oversize || string(s.Statement().Text) != "SELECT 2" {
		t.Fatalf("second statement: %+v", s.Statement())
	}
}
