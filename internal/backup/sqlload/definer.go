package sqlload

import (
	"strings"
)

// Definer is the DEFINER clause of a CREATE VIEW, TRIGGER, PROCEDURE,
// FUNCTION, EVENT or PACKAGE statement, as SHOW CREATE prints it and as
// mysqldump and mariadb-dump write it, also inside executable comments
// (/*!50013 DEFINER=`u`@`%` SQL SECURITY DEFINER */, /*!50017 DEFINER=…*/).
// Offsets index the statement's text.
type Definer struct {
	// Start is where the word DEFINER begins; AccountStart and End
	// enclose the account after "=".
	Start, AccountStart, End int
	// Account is the account as written: `u`@`%`, 'u'@'h', u@h, a role
	// or CURRENT_USER[()].
	Account string
	// Kind is VIEW, TRIGGER, PROCEDURE, FUNCTION, EVENT, PACKAGE or
	// PACKAGE BODY; Name the object's name as written.
	Kind, Name string
}

// FindDefiner finds the DEFINER clause of a CREATE statement. It reads
// only the statement's head, up to the object's name, so a DEFINER written
// in a routine body, a view's query or a string is never taken for it.
func FindDefiner(stmt []byte) (Definer, bool) {
	var d Definer
	t := tokenizer{b: stmt}
	optional := func(words ...string) bool {
		save := t.i
		for _, w := range words {
			if t.word() != w {
				t.i = save
				return false
			}
		}
		return true
	}
	if t.word() != "CREATE" {
		return d, false
	}
	optional("OR", "REPLACE")
	if optional("ALGORITHM") && (!t.punct('=') || t.word() == "") {
		return d, false
	}
	if !optional("DEFINER") {
		return d, false
	}
	d.Start = t.i - len("DEFINER")
	if !t.punct('=') {
		return d, false
	}
	t.skip()
	d.AccountStart = t.i
	if !t.account() {
		return d, false
	}
	d.End = t.i
	d.Account = string(stmt[d.AccountStart:d.End])
	if optional("SQL", "SECURITY") && t.word() == "" {
		return d, false
	}
	optional("AGGREGATE")
	switch d.Kind = t.word(); d.Kind {
	case "PACKAGE":
		if optional("BODY") {
			d.Kind = "PACKAGE BODY"
		}
	case "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT":
	default:
		return d, false
	}
	optional("IF", "NOT", "EXISTS")
	t.skip()
	start := t.i
	if !t.ident() {
		return d, false
	}
	if t.i < len(t.b) && t.b[t.i] == '.' {
		t.i++
		if !t.ident() {
			return d, false
		}
	}
	d.Name = string(stmt[start:t.i])
	return d, true
}

// rewriteDefiner replaces the DEFINER account of a CREATE statement with
// CURRENT_USER when it names an account other than current (user@host as
// CURRENT_USER() returns it), for an account that may not create objects
// owned by others. It returns the statement (stmt itself when unchanged)
// and, when it changed it, a line saying so for the operator.
func rewriteDefiner(stmt []byte, current string) ([]byte, string) {
	d, ok := FindDefiner(stmt)
	if !ok || sameAccount(d.Account, current) {
		return stmt, ""
	}
	out := make([]byte, 0, len(stmt)+len("CURRENT_USER"))
	out = append(out, stmt[:d.AccountStart]...)
	out = append(out, "CURRENT_USER"...)
	out = append(out, stmt[d.End:]...)
	return out, strings.ToLower(d.Kind) + " " + d.Name + ": DEFINER " + d.Account + " → current user " + quoteAccount(current)
}

// sameAccount reports whether a DEFINER account as written is current
// ("user@host"): the user name compares exactly, the host without case.
// CURRENT_USER is the current account.
func sameAccount(written, current string) bool {
	user, host, ok := splitAccount(written)
	if !ok {
		return false
	}
	if host == "" && strings.EqualFold(user, "CURRENT_USER") && !strings.ContainsAny(written[:1], "`'\"") {
		return true
	}
	i := strings.LastIndexByte(current, '@')
	if i < 0 {
		return false
	}
	return user == current[:i] && strings.EqualFold(host, current[i+1:])
}

// splitAccount unquotes the parts of an account as written: `u`@`h`,
// 'u'@'h', "u"@"h", u@h, or a role (host "").
func splitAccount(s string) (user, host string, ok bool) {
	t := tokenizer{b: []byte(s)}
	start := t.i
	if !t.accountPart() {
		return "", "", false
	}
	user = unquote(s[start:t.i])
	if t.i < len(s) && s[t.i] == '@' {
		t.i++
		start = t.i
		if !t.accountPart() {
			return "", "", false
		}
		host = unquote(s[start:t.i])
	}
	return user, host, true
}

// unquote removes the quotes of a `…`, '…' or "…" name part, undoing
// doubled quotes and, in '…' and "…", backslash escapes.
func unquote(s string) string {
	if len(s) < 2 || !strings.ContainsRune("`'\"", rune(s[0])) {
		return s
	}
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch {
		case c == '\\' && q != '`' && i+1 < len(s)-1:
			i++
			b.WriteByte(s[i])
		case c == q && i+1 < len(s)-1 && s[i+1] == q:
			i++
			b.WriteByte(q)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// quoteAccount writes "user@host" (as CURRENT_USER() returns it) the way
// SHOW CREATE does: `user`@`host`.
func quoteAccount(account string) string {
	q := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
	i := strings.LastIndexByte(account, '@')
	if i < 0 {
		return q(account)
	}
	return q(account[:i]) + "@" + q(account[i+1:])
}

// punct passes white space and comments, then the byte c.
func (t *tokenizer) punct(c byte) bool {
	t.skip()
	if t.i < len(t.b) && t.b[t.i] == c {
		t.i++
		return true
	}
	return false
}

// ident passes an identifier: `quoted`, "quoted" or a bare word.
func (t *tokenizer) ident() bool {
	if t.i < len(t.b) && (t.b[t.i] == '`' || t.b[t.i] == '"') {
		return t.quoted()
	}
	start := t.i
	for t.i < len(t.b) && isWordByte(t.b[t.i]) {
		t.i++
	}
	return t.i > start
}

// account passes an account name: user, user@host, CURRENT_USER[()] or a
// role, each part quoted with ` ' " or bare.
func (t *tokenizer) account() bool {
	if !t.accountPart() {
		return false
	}
	if t.i+1 < len(t.b) && t.b[t.i] == '(' && t.b[t.i+1] == ')' { // CURRENT_USER()
		t.i += 2
		return true
	}
	if t.i < len(t.b) && t.b[t.i] == '@' {
		t.i++
		return t.accountPart()
	}
	return true
}

func (t *tokenizer) accountPart() bool {
	if t.i < len(t.b) && (t.b[t.i] == '`' || t.b[t.i] == '\'' || t.b[t.i] == '"') {
		return t.quoted()
	}
	start := t.i
	for t.i < len(t.b) && (isWordByte(t.b[t.i]) || t.b[t.i] == '.' || t.b[t.i] == '%') {
		t.i++
	}
	return t.i > start
}

// quoted passes a `…`, '…' or "…" token starting at t.i: doubled quotes
// stand for the quote, and in '…' and "…" a backslash escapes the next byte.
func (t *tokenizer) quoted() bool {
	q := t.b[t.i]
	for j := t.i + 1; j < len(t.b); j++ {
		switch c := t.b[j]; {
		case c == '\\' && q != '`':
			j++
		case c == q && j+1 < len(t.b) && t.b[j+1] == q:
			j++
		case c == q:
			t.i = j + 1
			return true
		}
	}
	return false
}
