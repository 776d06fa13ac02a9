package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// parseSecretURL parses the value of a URL variable that may hold a password
// (DATABASE_URL, REDIS_URL …). example is the expected shape, shown in
// errors. The errors never contain the value or any part of it:
//
//   - url.Parse's own errors quote the whole URL, password included;
//   - url.Parse ends the host part at the first '/', '?' or '#', so a password
//     holding one of them unescaped (mysql://u:?pw@h/db, mysql://u:/pw@h,
//     redis://h:1?pw@x) lands in the path, the query or the fragment, where
//     later messages ("unknown parameter …", the database name) would quote
//     it, or be taken as the database name.
//
// So the value's shape is checked first, by hand, and each error says which
// part is wrong and how to fix it. Once parseSecretURL returns a URL, its
// password is in URL.User and nowhere else: the caller may quote the scheme,
// path and parameters in its own messages (not the port: in
// mysql://u:123456/db, a forgotten "@host" makes a numeric password the port).
func parseSecretURL(raw, example string) (*url.URL, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !validScheme(scheme) {
		return nil, fmt.Errorf("must start with a scheme and :// (expected %s)", example)
	}
	// The host part ends at the first '/', '?' or '#'; an '@' after that
	// means the user name or password holds one of them unescaped.
	if end := strings.IndexAny(rest, "/?#"); end >= 0 && strings.Contains(rest[end:], "@") {
		return nil, errors.New("the password (or user name) holds an unescaped '/', '?' or '#', or an '@' follows the host: " +
			"percent-encode them in the password (/ as %2F, ? as %3F, # as %23, @ as %40)")
	}
	if strings.Contains(rest, "#") {
		return nil, errors.New("'#' is not allowed (it would end the URL there): percent-encode it as %23")
	}
	authority, _, _ := strings.Cut(rest, "/")
	authority, _, _ = strings.Cut(authority, "?")
	userinfo, hostport := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hostport = authority[:at], authority[at+1:]
	}
	if _, err := url.Parse("x://" + userinfo + "@h"); err != nil {
		return nil, errors.New("the user name or password is not valid in a URL: percent-encode every character " +
			"other than letters, digits and -._~ (a space as %20, % as %25, @ as %40, : in the user name as %3A)")
	}
	// url.Parse reads db::1:3306 as host "db:" or "::1", port 3306: refuse
	// the ambiguity instead of guessing.
	if !strings.HasPrefix(hostport, "[") && strings.Count(hostport, ":") > 1 {
		return nil, fmt.Errorf("the host or port is not valid: write an IPv6 address in [brackets] (expected %s)", example)
	}
	if _, err := url.Parse("x://" + hostport); err != nil {
		return nil, fmt.Errorf("the host or port is not valid: a host name, IPv4 address or [IPv6] address, then :port (expected %s)", example)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the path or parameters are not valid: percent-encode special characters (expected %s)", example)
	}
	return u, nil
}

// validScheme reports whether s is a URL scheme: a letter, then letters,
// digits, '+', '-' or '.'. Anything else cannot be quoted in a message: it
// may be the start of a password typed without its scheme.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}
