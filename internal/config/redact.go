package config

import (
	"html"
	"net/url"
	"slices"
	"strings"
)

// Secrets is what the log and email scrubber hides: every configured secret
// value, in each form a message may carry it. It is the one redactor of the
// project; internal/logging and internal/notify both use it. The zero value
// hides nothing.
//
// The rule, and why:
//
//   - A secret is hidden wherever it appears, raw or encoded (percent-encoded
//     as a URL carries it, HTML-escaped as a rendered email carries it).
//     However short: Load refuses secrets shorter than minSecretLen, so this
//     never blanks ordinary words, and a list built by hand never leaks one
//     silently.
//   - Except inside a name. Names are the configured values that identify
//     rather than protect (database name, user names, hosts, addresses); they
//     are printed openly by `config check`, in backup file names and emails.
//     A secret equal to a name (DB password "cantina" for database
//     "cantina"), or part of one, is no secret from anyone who reads that
//     name, so hiding it there would only turn every mention of the database
//     into [REDACTED] and make the logs useless. An occurrence of the secret
//     lying wholly inside an occurrence of such a name is left as it is.
//   - But never where it is used as a password: in a URL's or DSN's userinfo
//     (":secret@", as in mysql://user:secret@host/db and
//     user:secret@tcp(host)/db) or after "password=" (as in DB_PASSWORD=…).
//     There it is hidden even when it equals a name.
type Secrets struct {
	// forms are the forms of every secret, deduplicated.
	forms []string
	// names are the forms of the names that contain a secret form: only
	// those can protect an occurrence.
	names []string
}

// NewSecrets returns the redactor for secrets, leaving names readable as
// described on Secrets. Empty strings are ignored.
func NewSecrets(secrets, names []string) Secrets {
	var s Secrets
	for _, v := range secrets {
		s.forms = append(s.forms, formsOf(v)...)
	}
	slices.Sort(s.forms)
	s.forms = slices.Compact(s.forms)
	for _, n := range names {
		for _, f := range formsOf(n) {
			if slices.ContainsFunc(s.forms, func(secret string) bool { return strings.Contains(f, secret) }) {
				s.names = append(s.names, f)
			}
		}
	}
	slices.Sort(s.names)
	s.names = slices.Compact(s.names)
	return s
}

// formsOf returns v as it may appear in a message: raw, percent-encoded as
// a query value, a path segment and a URL's userinfo, and HTML-escaped.
func formsOf(v string) []string {
	if v == "" {
		return nil
	}
	return []string{
		v,
		url.QueryEscape(v),
		url.PathEscape(v),
		strings.TrimPrefix(url.UserPassword("", v).String(), ":"),
		html.EscapeString(v),
	}
}

// Empty reports whether there is nothing to hide.
func (s Secrets) Empty() bool { return len(s.forms) == 0 }

// Redact returns text with every occurrence of a secret replaced by
// [REDACTED], following the rule on Secrets. Overlapping occurrences (one
// secret a part of another) are replaced as one.
func (s Secrets) Redact(text string) string {
	type span struct{ start, end int }
	var hide []span
	for _, f := range s.forms {
		for from := 0; ; {
			i := strings.Index(text[from:], f)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(f)
			if usedAsPassword(text, start, end) || !s.insideName(text, start, end) {
				hide = append(hide, span{start, end})
			}
			from = start + 1
		}
	}
	if len(hide) == 0 {
		return text
	}
	slices.SortFunc(hide, func(a, b span) int { return a.start - b.start })
	merged := hide[:1]
	for _, h := range hide[1:] {
		if last := &merged[len(merged)-1]; h.start < last.end {
			last.end = max(last.end, h.end)
		} else {
			merged = append(merged, h)
		}
	}
	var b strings.Builder
	prev := 0
	for _, h := range merged {
		b.WriteString(text[prev:h.start])
		b.WriteString(redacted)
		prev = h.end
	}
	b.WriteString(text[prev:])
	return b.String()
}

// usedAsPassword reports whether text[start:end] stands where a password
// stands: a URL's or DSN's userinfo (":secret@") or an assignment to a
// variable or parameter whose name ends in "password".
func usedAsPassword(text string, start, end int) bool {
	if start > 0 && text[start-1] == ':' && end < len(text) && text[end] == '@' {
		return true
	}
	const key = "password="
	return start >= len(key) && strings.EqualFold(text[start-len(key):start], key)
}

// insideName reports whether text[start:end] lies wholly inside an
// occurrence of one of the names.
func (s Secrets) insideName(text string, start, end int) bool {
	for _, n := range s.names {
		for p := max(0, end-len(n)); p <= start && p+len(n) <= len(text); p++ {
			if text[p:p+len(n)] == n {
				return true
			}
		}
	}
	return false
}
