package console

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hibiken/asynqmon"
)

// Masks put in place of what the console must not show.
const (
	maskSecret = "[REDACTED]"
	maskEmail  = "[email]"
)

// Formatters are asynqmon's payload and result formatters: Redact.
var (
	payloadFormatter = asynqmon.PayloadFormatterFunc(func(_ string, b []byte) string { return Redact(b) })
	resultFormatter  = asynqmon.ResultFormatterFunc(func(_ string, b []byte) string { return Redact(b) })
)

// Redact renders a task payload or result for the console with email
// addresses and secret-looking values masked: JSON is re-encoded with
// every value under a secret-sounding key (password, token, secret, key,
// authorization, cookie …) and every secret-looking string masked; other
// text gets the same string rules; bytes that are not text are not shown.
func Redact(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil && !dec.More() {
		out, err := json.Marshal(redactValue("", v))
		if err == nil {
			return string(out)
		}
	}
	if !utf8.Valid(b) || bytes.ContainsFunc(b, func(r rune) bool { return !unicode.IsPrint(r) && !unicode.IsSpace(r) }) {
		return "non-printable bytes (not shown)"
	}
	return redactText(string(b))
}

func redactValue(key string, v any) any {
	if secretKey(key) {
		return maskSecret
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = redactValue(k, x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = redactValue(key, x)
		}
		return t
	case string:
		if digestKey(key) && hexString.MatchString(t) {
			return t // a checksum names content, it reveals none
		}
		return redactText(t)
	}
	return v
}

// secretKey reports whether a JSON key names a secret: password, passwd,
// pwd, secret, token, key, api_key, access_key, private_key,
// authorization, auth, cookie, session, credential(s) and names ending in
// one of them (db_password, refresh_token …). "keys" (cache keys) is not.
func secretKey(k string) bool {
	k = strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(k))
	switch k {
	case "key", "auth", "pwd", "cookie", "session", "sessionid":
		return true
	}
	for _, s := range []string{"password", "passwd", "secret", "token", "apikey", "accesskey", "privatekey", "authorization", "credential", "credentials"} {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// digestKey reports whether a JSON key names a checksum (sha256, digest …).
func digestKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "sha") || strings.Contains(k, "checksum") || strings.Contains(k, "digest")
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	// assignRE: password=…, token: …, secret "…" in free text.
	assignRE = regexp.MustCompile(`(?i)\b([a-z_]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key))(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)`)
	// wordRE: a run of characters a random token is made of.
	wordRE    = regexp.MustCompile(`[A-Za-z0-9+/=_\-]{20,}`)
	hexString = regexp.MustCompile(`^[0-9a-fA-F]{32,}$`)
	// urlUserRE: the password of scheme://user:password@host.
	urlUserRE = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]+@`)
)

// redactText masks email addresses, passwords in URLs, key=value secrets
// and words that look random (see randomLooking) in s.
func redactText(s string) string {
	return wordRE.ReplaceAllStringFunc(redactError(s), func(w string) string {
		if randomLooking(w) {
			return maskSecret
		}
		return w
	})
}

// redactError masks email addresses, passwords in URLs and key=value
// secrets in a task's error message. Random-looking words stay: in an
// error they are checksums and ids an operator needs.
func redactError(s string) string {
	s = urlUserRE.ReplaceAllString(s, "${1}"+maskSecret+"@")
	s = emailRE.ReplaceAllString(s, maskEmail)
	return assignRE.ReplaceAllString(s, "${1}${2}"+maskSecret)
}

// redactErrors rewrites an asynqmon API answer (JSON) with every task's
// "error_message" passed through redactError; other bodies come back as
// they are.
func redactErrors(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"error_message"`)) {
		return body
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return body
	}
	out, err := json.Marshal(redactErrorFields(v))
	if err != nil {
		return body
	}
	return append(out, '\n')
}

func redactErrorFields(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && k == "error_message" {
				t[k] = redactError(s)
			} else {
				t[k] = redactErrorFields(x)
			}
		}
	case []any:
		for i, x := range t {
			t[i] = redactErrorFields(x)
		}
	}
	return v
}

// randomLooking reports whether a word of 20+ token characters looks like
// a generated secret: hex of 32+ digits, or a run of 20+ characters
// between '-' and '_' that mixes upper case, lower case and digits. Names
// people and programs write (cantina-20261129T020000Z, cache keys) have
// separators, or one case.
func randomLooking(w string) bool {
	if hexString.MatchString(w) {
		return true
	}
	for _, piece := range strings.FieldsFunc(w, func(r rune) bool { return r == '-' || r == '_' }) {
		if len(piece) >= 20 && mixed(piece) {
			return true
		}
	}
	return false
}

// mixed reports whether s has upper case, lower case and digits.
func mixed(s string) bool {
	var upper, lower, digit bool
	for _, r := range s {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		}
	}
	return upper && lower && digit
}
