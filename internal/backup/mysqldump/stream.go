package mysqldump

import (
	"bytes"
	"io"
	"regexp"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/sqlload"
)

// ring keeps the last max bytes written to it.
type ring struct {
	max int
	buf []byte
}

func (r *ring) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= r.max {
		r.buf = append(r.buf[:0], p[len(p)-r.max:]...)
		return n, nil
	}
	if over := len(r.buf) + len(p) - r.max; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
	}
	r.buf = append(r.buf, p...)
	return n, nil
}

func (r *ring) Bytes() []byte { return r.buf }

// headSize bytes of the dump's start are kept for its header comments.
const headSize = 4 << 10

// sink receives the dump program's standard output: it passes every byte
// to the caller's writer and to the analyser, and keeps the head (for the
// server version) and the tail (for the completion trailer).
type sink struct {
	w        io.Writer
	analysis io.Writer
	onError  func() // stops the dump program when w fails
	head     []byte
	tail     ring
	n        int64
	err      error
}

func (s *sink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if _, err := s.w.Write(p); err != nil {
		s.err = err
		s.onError()
		return 0, err
	}
	s.n += int64(len(p))
	if len(s.head) < headSize {
		s.head = append(s.head, p[:min(len(p), headSize-len(s.head))]...)
	}
	_, _ = s.tail.Write(p)
	// The analyser always reads to the end, so this cannot block for
	// long; its errors only cost the row counts.
	_, _ = s.analysis.Write(p)
	return len(p), nil
}

// hasTrailer reports whether the last line of a dump starts with the
// completion trailer mysqldump writes only after a complete dump.
func hasTrailer(tail []byte) bool {
	t := bytes.TrimRight(tail, "\r\n")
	if i := bytes.LastIndexByte(t, '\n'); i >= 0 {
		t = t[i+1:]
	}
	return bytes.HasPrefix(t, []byte(backup.TrailerPrefix))
}

// serverVersion reads "-- Server version\t10.11.19-MariaDB…" from the
// dump's header.
func serverVersion(head []byte) string {
	for line := range bytes.SplitSeq(head, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(line, []byte("-- Server version")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// analyzeLimit bounds the statement the analyser keeps in memory; rows of
// a longer INSERT are not counted.
const analyzeLimit = 64 << 20

// analyzer reads the dump as it passes, with the restore's own splitter,
// and counts the rows of each base table's INSERT statements. Under
// --single-transaction the dump is the snapshot, so these are the
// snapshot's row counts.
type analyzer struct {
	progress func(backup.Progress)
	tables   []backup.TableInfo
	index    map[string]int
	rows     int64
	err      error

	sqlMode, saved map[string]string // sql_mode and user variables holding one
}

func newAnalyzer(progress func(backup.Progress)) *analyzer {
	return &analyzer{progress: progress, index: map[string]int{},
		sqlMode: map[string]string{"@@sql_mode": ""}, saved: map[string]string{}}
}

// run analyses the dump read from r until its end or the first error.
func (a *analyzer) run(r io.Reader) {
	sc := sqlload.NewScanner(r)
	sc.SetMaxStatement(analyzeLimit)
	for sc.Scan() {
		a.statement(sc, sc.Statement())
	}
	a.err = sc.Err()
}

// result returns the tables and their row counts, or nil when the dump
// could not be analysed to its end.
func (a *analyzer) result() []backup.TableInfo {
	if a.err != nil {
		return nil
	}
	return a.tables
}

var (
	createTableRe = regexp.MustCompile(`(?i)^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`)
	insertRe      = regexp.MustCompile(`(?i)^(?:INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+`)
	setRe         = regexp.MustCompile(`(?i)^(?:/\*M?!\d*\s*)?SET\s`)
)

func (a *analyzer) statement(sc *sqlload.Scanner, st sqlload.Statement) {
	text := st.Text
	if m := createTableRe.FindIndex(text); m != nil {
		// Only a base table: view placeholders are inside /*!50001 … */.
		name, _ := identifier(text[m[1]:])
		if _, ok := a.index[name]; !ok && name != "" {
			a.index[name] = len(a.tables)
			a.tables = append(a.tables, backup.TableInfo{Name: name})
		}
		a.report(name, st)
		return
	}
	if m := insertRe.FindIndex(text); m != nil {
		name, rest := identifier(text[m[1]:])
		i, ok := a.index[name]
		if !ok {
			a.index[name] = len(a.tables)
			a.tables = append(a.tables, backup.TableInfo{Name: name})
			i = len(a.tables) - 1
		}
		switch {
		case st.Oversize:
			a.tables[i].Rows = -1
		case a.tables[i].Rows >= 0:
			n := countTuples(rest, a.noBackslash())
			a.tables[i].Rows += n
			a.rows += n
		}
		a.report(name, st)
		return
	}
	if len(text) < 4096 && setRe.Match(text) && bytes.Contains(bytes.ToLower(text), []byte("sql_mode")) {
		a.setStatement(text)
		sc.SetSQLMode(a.sqlMode["@@sql_mode"])
	}
}

func (a *analyzer) report(table string, st sqlload.Statement) {
	if a.progress == nil {
		return
	}
	a.progress(backup.Progress{Table: table, TablesDone: max(len(a.tables)-1, 0), Rows: a.rows, Bytes: st.End})
}

func (a *analyzer) noBackslash() bool {
	return strings.Contains(strings.ToUpper(a.sqlMode["@@sql_mode"]), "NO_BACKSLASH_ESCAPES")
}

// assignRe matches one assignment of a SET statement as mysqldump writes
// them around routines and triggers:
//
//	/*!50003 SET @saved_sql_mode = @@sql_mode */
//	/*!50003 SET sql_mode = 'NO_BACKSLASH_ESCAPES,…' */
//	/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */
//	/*!50003 SET sql_mode = @saved_sql_mode */
var assignRe = regexp.MustCompile(`(?i)(@{0,2}[\w.]+)\s*=\s*('(?:[^'\\]|\\.|'')*'|@{0,2}[\w.]+)`)

// setStatement follows the session's sql_mode through a SET statement, so
// the splitter reads the next statements as the server's status flags
// would tell the mysql client to.
func (a *analyzer) setStatement(text []byte) {
	norm := func(name string) string {
		n := strings.ToLower(name)
		switch strings.TrimPrefix(strings.TrimPrefix(n, "@@"), "session.") {
		case "sql_mode":
			return "@@sql_mode"
		}
		return n
	}
	for _, m := range assignRe.FindAllSubmatch(text, -1) {
		target, src := norm(string(m[1])), string(m[2])
		var val string
		switch {
		case strings.HasPrefix(src, "'"):
			val = strings.ReplaceAll(src[1:len(src)-1], "''", "'")
		case norm(src) == "@@sql_mode":
			val = a.sqlMode["@@sql_mode"]
		case strings.HasPrefix(src, "@"):
			val = a.saved[norm(src)]
		default:
			val = src // DEFAULT, TRADITIONAL …: no escaping changes we track
		}
		if target == "@@sql_mode" {
			a.sqlMode["@@sql_mode"] = val
		} else if strings.HasPrefix(target, "@") {
			a.saved[target] = val
		}
	}
}

// identifier reads a `quoted` or bare table name (the last part of a
// qualified one) and returns it with the text after it.
func identifier(b []byte) (string, []byte) {
	var name string
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 {
			return name, b
		}
		if b[0] == '`' {
			var out []byte
			i := 1
			for ; i < len(b); i++ {
				if b[i] == '`' {
					if i+1 < len(b) && b[i+1] == '`' {
						out = append(out, '`')
						i++
						continue
					}
					break
				}
				out = append(out, b[i])
			}
			name, b = string(out), b[min(i+1, len(b)):]
		} else {
			i := 0
			for i < len(b) && (b[i] == '_' || b[i] == '$' || b[i] >= '0' && b[i] <= '9' ||
				b[i]|0x20 >= 'a' && b[i]|0x20 <= 'z' || b[i] >= 0x80) {
				i++
			}
			name, b = string(b[:i]), b[i:]
		}
		if len(b) == 0 || b[0] != '.' {
			return name, b
		}
		b = b[1:]
	}
}

// countTuples counts the row tuples of an INSERT after its table name:
// the parentheses opened at depth 0 after VALUES, outside strings.
func countTuples(b []byte, noBackslash bool) int64 {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) > 0 && b[0] == '(' { // a column list: skip it
		b = b[columnListEnd(b):]
	}
	var n int64
	depth, q := 0, byte(0)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if q != 0 {
			if c == '\\' && !noBackslash {
				i++
			} else if c == q {
				q = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			q = c
		case '(':
			if depth == 0 {
				n++
			}
			depth++
		case ')':
			depth--
		}
	}
	return n
}

// columnListEnd returns the offset just past the parenthesised column list
// that b starts with.
func columnListEnd(b []byte) int {
	depth, q := 0, byte(0)
	for i, c := range b {
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '`':
			q = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(b)
}

// sanitize makes the program's standard error fit one error message and
// removes the password from it, should the program ever print it.
func sanitize(stderr []byte, password string) string {
	s := strings.ToValidUTF8(string(stderr), "\uFFFD")
	if len(password) >= 4 {
		s = strings.ReplaceAll(s, password, "[REDACTED]")
	}
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}
