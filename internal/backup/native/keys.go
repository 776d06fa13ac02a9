package native

import (
	"slices"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/mysqlx"
)

// deferredKeys is a table definition split for a fast load: the CREATE
// TABLE with its primary key only, then what is added after the rows.
//
// Loading rows into a table that has only its clustered index, then
// building each secondary index in one sorted pass (InnoDB's ALTER TABLE
// … ADD KEY, in place) is much cheaper than maintaining every index row by
// row, for `backup restore` and for `gunzip -c | mysql` alike. The primary
// key stays in CREATE TABLE: InnoDB clusters rows by it, and rebuilding
// that would copy the table.
type deferredKeys struct {
	// create is the CREATE TABLE statement to write before the rows.
	create string
	// indexes are ALTER TABLE statements to write right after the table's
	// rows: every secondary index that is not FULLTEXT in one statement
	// (one scan of the table, each index built by sorting), then one
	// statement per FULLTEXT index, which InnoDB builds one at a time. The
	// server sorts a table's indexes by kind (unique, plain, FULLTEXT) and
	// keeps their order within a kind, so adding them in SHOW CREATE
	// TABLE's order gives back the same definition.
	indexes []string
	// foreign is the ALTER TABLE adding the table's foreign keys ("" if
	// none), written after every table's rows: with foreign_key_checks=0
	// (which the dump sets) it reads no data, and needs the referencing
	// index and the referenced table to exist.
	foreign string
}

// deferKeys splits SHOW CREATE TABLE's output as deferredKeys says, or
// keeps it whole (ok false) unless every condition for an exact round
// trip holds: an InnoDB table with a primary key whose first column is its
// AUTO_INCREMENT column if it has one (MySQL wants that column first in some
// index), neither partitioned nor system-versioned, and whose key and
// constraint lines name exactly the indexes SHOW INDEX lists (m.indexes)
// and the nfk foreign keys information_schema counts. A definition read
// any other way is written unchanged.
func deferKeys(create string, m *tableMeta, nfk int) (deferredKeys, bool) {
	whole := deferredKeys{create: create}
	if len(m.indexes) == 0 && nfk == 0 {
		return whole, false
	}
	if len(m.primary) == 0 || (m.autoInc != "" && m.primary[0] != m.autoInc) ||
		!strings.EqualFold(tableEngine(create), "InnoDB") ||
		strings.Contains(create, "PARTITION BY") || strings.Contains(create, "WITH SYSTEM VERSIONING") {
		return whole, false
	}
	lines := strings.Split(create, "\n")
	end := len(lines) - 1
	for end > 0 && !strings.HasPrefix(lines[end], ")") {
		end--
	}
	if end < 1 || !strings.HasSuffix(lines[0], " (") {
		return whole, false
	}
	var kept, plain, fulltext, foreign []string
	var names []string
	for _, l := range lines[1:end] {
		item := strings.TrimSuffix(l, ",")
		switch {
		case strings.HasPrefix(item, "  UNIQUE KEY "), strings.HasPrefix(item, "  KEY "), strings.HasPrefix(item, "  SPATIAL KEY "):
			plain = append(plain, strings.TrimPrefix(item, "  "))
			names = append(names, identAfter(item, "KEY "))
		case strings.HasPrefix(item, "  FULLTEXT KEY "):
			fulltext = append(fulltext, strings.TrimPrefix(item, "  "))
			names = append(names, identAfter(item, "KEY "))
		case strings.HasPrefix(item, "  CONSTRAINT ") && isForeignKey(item):
			foreign = append(foreign, strings.TrimPrefix(item, "  "))
		default:
			kept = append(kept, item)
		}
	}
	if len(names) != len(m.indexes) || len(foreign) != nfk {
		return whole, false
	}
	for _, n := range names {
		if !slices.Contains(m.indexes, n) {
			return whole, false
		}
	}
	table := mysqlx.QuoteIdent(m.name)
	out := deferredKeys{create: lines[0] + "\n" + strings.Join(kept, ",\n") + "\n" + strings.Join(lines[end:], "\n")}
	if len(plain) > 0 {
		out.indexes = append(out.indexes, alterAdd(table, plain))
	}
	for _, f := range fulltext {
		out.indexes = append(out.indexes, alterAdd(table, []string{f}))
	}
	if len(foreign) > 0 {
		out.foreign = alterAdd(table, foreign)
	}
	return out, true
}

// alterAdd is ALTER TABLE table ADD item, ADD item … (no delimiter).
func alterAdd(table string, items []string) string {
	return "ALTER TABLE " + table + "\n  ADD " + strings.Join(items, ",\n  ADD ")
}

// identAfter returns the backquoted identifier that follows the first
// marker in line, unquoted ("" if there is none).
func identAfter(line, marker string) string {
	i := strings.Index(line, marker)
	if i < 0 {
		return ""
	}
	name, _, ok := cutIdent(line[i+len(marker):])
	if !ok {
		return ""
	}
	return name
}

// cutIdent reads a `quoted` identifier at the start of s: its name and the
// rest of s.
func cutIdent(s string) (name, rest string, ok bool) {
	if !strings.HasPrefix(s, "`") {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '`' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '`' {
			b.WriteByte('`')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", s, false
}

// isForeignKey reports whether a CONSTRAINT line of SHOW CREATE TABLE
// defines a foreign key (not a CHECK).
func isForeignKey(item string) bool {
	_, rest, ok := cutIdent(strings.TrimPrefix(item, "  CONSTRAINT "))
	return ok && strings.HasPrefix(rest, " FOREIGN KEY (")
}
