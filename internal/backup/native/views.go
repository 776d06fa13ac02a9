package native

import (
	"slices"
	"strings"
)

// identifiers returns the backquoted identifiers in an SQL text (as SHOW
// CREATE VIEW prints it: every name quoted), skipping string literals.
func identifiers(sqlText string) []string {
	var ids []string
	for i := 0; i < len(sqlText); i++ {
		switch c := sqlText[i]; c {
		case '\'', '"':
			// a string: ends at the next unescaped, undoubled quote
			for i++; i < len(sqlText); i++ {
				if sqlText[i] == '\\' {
					i++
				} else if sqlText[i] == c {
					if i+1 < len(sqlText) && sqlText[i+1] == c {
						i++
					} else {
						break
					}
				}
			}
		case '`':
			var b strings.Builder
			for i++; i < len(sqlText); i++ {
				if sqlText[i] == '`' {
					if i+1 < len(sqlText) && sqlText[i+1] == '`' {
						i++
					} else {
						break
					}
				}
				b.WriteByte(sqlText[i])
			}
			ids = append(ids, b.String())
		}
	}
	return ids
}

// orderViews orders views so that each comes after the views its definition
// names, ties broken by name. A name is taken as a reference wherever it
// appears as an identifier, so a column that happens to share a view's name
// adds a needless edge; that can make a cycle, as can a real cycle (views
// redefined after creation). A cycle is broken at its first view by name,
// which goes into placeholders: the dump first creates a stand-in view with
// the same columns under that name, so the views that use it can be created
// before it.
func orderViews(defs map[string]string) (order, placeholders []string) {
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	slices.Sort(names)
	deps := make(map[string]map[string]bool, len(names)) // view → views it uses, not yet placed
	users := make(map[string][]string, len(names))       // view → views that use it
	for _, n := range names {
		deps[n] = map[string]bool{}
		for _, id := range identifiers(defs[n]) {
			if _, isView := defs[id]; isView && id != n && !deps[n][id] {
				deps[n][id] = true
				users[id] = append(users[id], n)
			}
		}
	}
	placed := make(map[string]bool, len(names))
	place := func(n string) {
		placed[n] = true
		order = append(order, n)
		for _, u := range users[n] {
			delete(deps[u], n)
		}
	}
	for len(order) < len(names) {
		progressed := false
		// Repeatedly place, in name order, every view whose uses are placed.
		for _, n := range names {
			if !placed[n] && len(deps[n]) == 0 {
				place(n)
				progressed = true
				break
			}
		}
		if progressed {
			continue
		}
		// A cycle: stand in for the first unplaced view by name.
		for _, n := range names {
			if !placed[n] {
				placeholders = append(placeholders, n)
				for _, u := range users[n] {
					delete(deps[u], n)
				}
				users[n] = nil
				break
			}
		}
	}
	return order, placeholders
}
