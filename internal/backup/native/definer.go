package native

import "strings"

// stripDefiner removes the DEFINER=… clause from a CREATE statement as SHOW
// CREATE VIEW/TRIGGER/PROCEDURE/FUNCTION/EVENT prints it, so that the
// object, restored by any user, is owned by that user instead of needing
// SUPER (or SET USER) to name the original account. The clause may only
// follow CREATE [OR REPLACE] [ALGORITHM=…]; anything else is left alone.
func stripDefiner(stmt string) string {
	i := 0
	word := func(w string) bool {
		if len(stmt)-i >= len(w) && strings.EqualFold(stmt[i:i+len(w)], w) {
			i += len(w)
			return true
		}
		return false
	}
	spaces := func() {
		for i < len(stmt) && isSpace(stmt[i]) {
			i++
		}
	}
	if !word("CREATE") {
		return stmt
	}
	spaces()
	if word("OR") {
		spaces()
		if !word("REPLACE") {
			return stmt
		}
		spaces()
	}
	if word("ALGORITHM") {
		spaces()
		if !word("=") {
			return stmt
		}
		spaces()
		for i < len(stmt) && !isSpace(stmt[i]) {
			i++
		}
		spaces()
	}
	start := i
	if !word("DEFINER") {
		return stmt
	}
	spaces()
	if !word("=") {
		return stmt
	}
	spaces()
	end, ok := skipAccount(stmt, i)
	if !ok {
		return stmt
	}
	for end < len(stmt) && isSpace(stmt[end]) {
		end++
	}
	return stmt[:start] + stmt[end:]
}

// skipAccount returns the index after an account name at s[i:]: user,
// user@host, CURRENT_USER[()] or a role, each part quoted with ` ' " or bare.
func skipAccount(s string, i int) (int, bool) {
	i, ok := skipNamePart(s, i)
	if !ok {
		return i, false
	}
	if i < len(s) && s[i] == '(' { // CURRENT_USER()
		if i+1 < len(s) && s[i+1] == ')' {
			return i + 2, true
		}
		return i, false
	}
	if i < len(s) && s[i] == '@' {
		return skipNamePart(s, i+1)
	}
	return i, true
}

func skipNamePart(s string, i int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch q := s[i]; q {
	case '`', '\'', '"':
		for i++; i < len(s); i++ {
			if s[i] == '\\' && q != '`' {
				i++
				continue
			}
			if s[i] == q {
				if i+1 < len(s) && s[i+1] == q {
					i++
					continue
				}
				return i + 1, true
			}
		}
		return i, false
	default:
		j := i
		for j < len(s) && !isSpace(s[j]) && s[j] != '@' && s[j] != '(' {
			j++
		}
		return j, j > i
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
