package sqlload

import (
	"bytes"
	"strings"
)

// kind is what a statement does to the choice of database, as far as Load
// cares.
type kind uint8

const (
	kindOther kind = iota
	kindUse
	kindCreateDatabase
	kindDropDatabase
	kindAlterDatabase // ALTER DATABASE with an explicit name
	kindSet           // SET …: may change sql_mode
	kindCreate        // CREATE of anything but a database: may carry a DEFINER
	kindInsert        // INSERT: counts rows
)

// classify reads the first keywords of a statement, looking through
// comments and the openers of executable comments (/*!40000 …). For
// kindAlterDatabase it also returns where the database name is, so the
// name can be removed and the statement applies to the current database.
func classify(text []byte) (k kind, nameStart, nameEnd int) {
	t := tokenizer{b: text}
	first := t.word()
	switch first {
	case "USE":
		return kindUse, 0, 0
	case "SET":
		return kindSet, 0, 0
	case "INSERT":
		return kindInsert, 0, 0
	case "CREATE":
		w := t.word()
		if w == "OR" && t.word() == "REPLACE" {
			w = t.word()
		}
		if w == "DATABASE" || w == "SCHEMA" {
			return kindCreateDatabase, 0, 0
		}
		return kindCreate, 0, 0
	case "DROP":
		if w := t.word(); w == "DATABASE" || w == "SCHEMA" {
			return kindDropDatabase, 0, 0
		}
	case "ALTER":
		if w := t.word(); w != "DATABASE" && w != "SCHEMA" {
			return kindOther, 0, 0
		}
		t.skip()
		start := t.i
		if !t.name() {
			return kindOther, 0, 0
		}
		return kindAlterDatabase, start, t.i
	}
	return kindOther, 0, 0
}

// alterOptions are the words that may follow ALTER DATABASE when it has no
// name (it then applies to the current database).
var alterOptions = map[string]bool{
	"CHARACTER": true, "CHARSET": true, "DEFAULT": true, "COLLATE": true,
	"COMMENT": true, "ENCRYPTION": true, "READ": true,
}

// tokenizer walks the first keywords of a statement.
type tokenizer struct {
	b []byte
	i int
}

// skip passes white space, comments and executable-comment markers.
func (t *tokenizer) skip() {
	for t.i < len(t.b) {
		rest := t.b[t.i:]
		switch {
		case isSpace(rest[0]):
			t.i++
		case bytes.HasPrefix(rest, []byte("/*!")) || bytes.HasPrefix(rest, []byte("/*M!")):
			t.i += bytes.IndexByte(rest, '!') + 1
			for t.i < len(t.b) && t.b[t.i] >= '0' && t.b[t.i] <= '9' {
				t.i++
			}
		case bytes.HasPrefix(rest, []byte("/*")):
			end := bytes.Index(rest[2:], []byte("*/"))
			if end < 0 {
				t.i = len(t.b)
				return
			}
			t.i += end + 4
		case bytes.HasPrefix(rest, []byte("*/")):
			t.i += 2
		case rest[0] == '#' || (bytes.HasPrefix(rest, []byte("--")) && (len(rest) == 2 || isSpace(rest[2]))):
			end := bytes.IndexByte(rest, '\n')
			if end < 0 {
				t.i = len(t.b)
				return
			}
			t.i += end + 1
		default:
			return
		}
	}
}

// word returns the next bare word in upper case ("" if the next token is
// not one).
func (t *tokenizer) word() string {
	t.skip()
	start := t.i
	for t.i < len(t.b) && isWordByte(t.b[t.i]) {
		t.i++
	}
	return strings.ToUpper(string(t.b[start:t.i]))
}

// name passes a database name: a `quoted` or "quoted" identifier, or a bare
// word that is not an ALTER DATABASE option.
func (t *tokenizer) name() bool {
	if t.i >= len(t.b) {
		return false
	}
	if q := t.b[t.i]; q == '`' || q == '"' {
		for j := t.i + 1; j < len(t.b); j++ {
			if t.b[j] != q {
				continue
			}
			if j+1 < len(t.b) && t.b[j+1] == q { // doubled quote
				j++
				continue
			}
			t.i = j + 1
			return true
		}
		return false
	}
	save := t.i
	w := t.word()
	if w == "" || alterOptions[w] {
		t.i = save
		return false
	}
	return true
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// withoutName returns text with text[start:end] removed.
func withoutName(text []byte, start, end int) []byte {
	out := make([]byte, 0, len(text)-(end-start))
	out = append(out, text[:start]...)
	return append(out, text[end:]...)
}

// tableOp is what a statement does to one table, as a parallel load
// splits a dump into tables.
type tableOp uint8

const (
	opOther       tableOp = iota
	opDropTable           // DROP TABLE [IF EXISTS] t (one table)
	opCreateTable         // CREATE TABLE t
	opInsert              // INSERT INTO t
	opAddIndex            // ALTER TABLE t ADD [UNIQUE|FULLTEXT|SPATIAL] KEY|INDEX …
)

// tableOpHeads are the first two words of each tableOp.
var tableOpHeads = map[string]struct {
	second string
	op     tableOp
}{
	"INSERT": {"INTO", opInsert},
	"CREATE": {"TABLE", opCreateTable},
	"DROP":   {"TABLE", opDropTable},
	"ALTER":  {"TABLE", opAddIndex},
}

// tableOpOf reads which tableOp text is and the table it names (unquoted).
// Anything it does not recognise exactly is opOther: CREATE TABLE … SELECT
// and LIKE are told apart by the caller never needing to (a dump has
// neither), ALTER TABLE … ADD CONSTRAINT (foreign keys) is opOther, so is
// a statement naming more than one table or a database.
func tableOpOf(text []byte) (tableOp, string) {
	t := tokenizer{b: text}
	head, ok := tableOpHeads[t.word()]
	if !ok || t.word() != head.second {
		return opOther, ""
	}
	op := head.op
	t.skip()
	if op == opDropTable && t.i < len(t.b) && t.b[t.i] != '`' {
		if t.word() != "IF" || t.word() != "EXISTS" {
			return opOther, ""
		}
		t.skip()
	}
	name, ok := t.tableName()
	if !ok {
		return opOther, ""
	}
	t.skip()
	if t.i < len(t.b) && t.b[t.i] == '.' { // db.table
		return opOther, ""
	}
	switch op {
	case opDropTable:
		if t.i < len(t.b) && t.b[t.i] == ',' {
			return opOther, ""
		}
	case opAddIndex:
		if t.word() != "ADD" {
			return opOther, ""
		}
		switch t.word() {
		case "UNIQUE", "FULLTEXT", "SPATIAL", "KEY", "INDEX":
		default:
			return opOther, ""
		}
	}
	return op, name
}

// tableName passes an identifier (see ident) and returns it unquoted.
func (t *tokenizer) tableName() (string, bool) {
	start := t.i
	if !t.ident() {
		return "", false
	}
	name := t.b[start:t.i]
	if q := name[0]; q == '`' || q == '"' {
		name = bytes.ReplaceAll(name[1:len(name)-1], []byte{q, q}, []byte{q})
	}
	return string(name), true
}
