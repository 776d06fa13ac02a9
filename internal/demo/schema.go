package demo

import (
	_ "embed"
	"strings"
)

//go:embed schema.sql
var schemaSQL string

// Schema returns the demo schema's statements in execution order: tables
// (parents before children), then the view and the trigger. Each can be run
// on its own with Exec, without multiStatements.
func Schema() []string { return splitStatements(schemaSQL) }

// splitStatements splits a SQL script the way the mysql client does: on the
// current delimiter (";" until a "DELIMITER x" line changes it) outside
// quotes and comments. "--" and "#" comments are dropped; /* */ comments are
// kept, as they may be conditional (/*! … */). Empty statements are skipped.
func splitStatements(src string) []string {
	var (
		out   []string
		cur   strings.Builder
		delim = ";"
	)
	emit := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	lineStart := true
	for i := 0; i < len(src); {
		if lineStart {
			lineStart = false
			if strings.TrimSpace(cur.String()) == "" {
				end := strings.IndexByte(src[i:], '\n')
				if end < 0 {
					end = len(src) - i
				}
				f := strings.Fields(src[i : i+end])
				if len(f) == 2 && strings.EqualFold(f[0], "DELIMITER") {
					delim = f[1]
					cur.Reset()
					i += end
					continue
				}
			}
		}
		c := src[i]
		switch {
		case c == '\n':
			cur.WriteByte(c)
			lineStart = true
			i++
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(src, i)
			cur.WriteString(src[i:j])
			i = j
		case c == '#' || (c == '-' && strings.HasPrefix(src[i:], "--") &&
			(i+2 == len(src) || src[i+2] == ' ' || src[i+2] == '\t' || src[i+2] == '\n' || src[i+2] == '\r')):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			i += end
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				end = len(src) - i - 2
			} else {
				end += 2
			}
			cur.WriteString(src[i : i+2+end])
			i += 2 + end
		case strings.HasPrefix(src[i:], delim):
			emit()
			i += len(delim)
		default:
			cur.WriteByte(c)
			i++
		}
	}
	emit()
	return out
}

// skipQuoted returns the index just past the quoted string starting at i.
// Backslash escapes apply inside '…' and "…"; a doubled quote is read as two
// adjacent strings, which comes to the same thing.
func skipQuoted(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			return j + 1
		}
	}
	return len(src)
}

// deferredPrefixes start the definitions that deferKeys moves out of a
// CREATE TABLE.
var deferredPrefixes = []string{"KEY ", "INDEX ", "UNIQUE KEY ", "UNIQUE INDEX ", "CONSTRAINT ", "FOREIGN KEY "}

// deferKeys splits a CREATE TABLE statement written one definition per line
// (as schema.sql is) into the same statement without its secondary keys and
// foreign keys, and the ALTER TABLE that adds them back ("" when there are
// none). Loading first and indexing after replaces random index inserts
// with one sorted build per index: the way restore tools load a big dump.
func deferKeys(stmt string) (create, alter string) {
	lines := strings.Split(stmt, "\n")
	var kept, deferred []string
	for _, line := range lines {
		t := strings.TrimSpace(line)
		isKey := false
		for _, p := range deferredPrefixes {
			if strings.HasPrefix(strings.ToUpper(t), p) {
				isKey = true
				break
			}
		}
		if isKey {
			deferred = append(deferred, strings.TrimSuffix(t, ","))
			continue
		}
		kept = append(kept, line)
	}
	if len(deferred) == 0 {
		return stmt, ""
	}
	// The definition before the closing ")" loses its trailing comma.
	for i := len(kept) - 1; i > 0; i-- {
		if strings.HasPrefix(strings.TrimSpace(kept[i]), ")") {
			kept[i-1] = strings.TrimSuffix(strings.TrimRight(kept[i-1], " \t"), ",")
			break
		}
	}
	table := strings.Fields(stmt)[2]
	return strings.Join(kept, "\n"), "ALTER TABLE " + table + " ADD " + strings.Join(deferred, ", ADD ")
}
