package config

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// APIToken is one caller of the HTTP API (API_TOKENS): its name is what
// logs call it, its token the bearer secret it sends.
type APIToken struct {
	Name  string
	Token Secret
}

// MinAPITokenLen is the shortest API token Load accepts: a bearer token is
// tried over the network, so it must be long and random.
const MinAPITokenLen = 16

var apiTokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// apiTokens reads API_TOKENS: comma-separated name:token pairs. Names are
// unique; a token is at least MinAPITokenLen characters without spaces or
// commas. No message quotes a token: a malformed entry is named by its
// position.
func (p *parser) apiTokens() []APIToken {
	const name = "API_TOKENS"
	raw := p.str(name, "")
	if raw == "" {
		return nil
	}
	var out []APIToken
	seen := map[string]bool{}
	for i, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		pos := "entry " + strconv.Itoa(i+1)
		if entry == "" {
			continue
		}
		n, tok, ok := strings.Cut(entry, ":")
		switch {
		case !ok:
			p.fail(name, "%s is not name:token (e.g. pos:<a random token of %d+ characters>)", pos, MinAPITokenLen)
			continue
		case !apiTokenName.MatchString(n):
			p.fail(name, "%s: the name must be letters, digits, '_', '.', '-' (up to 64), e.g. pos", pos)
			continue
		case seen[n]:
			p.fail(name, "%s: the name %q is used twice; each caller needs its own name", pos, n)
			continue
		case utf8.RuneCountInString(tok) < MinAPITokenLen || strings.ContainsAny(tok, " \t"):
			p.fail(name, "%s (%s): the token must be at least %d characters without spaces; generate one with `openssl rand -hex 24`", pos, n, MinAPITokenLen)
			continue
		}
		seen[n] = true
		out = append(out, APIToken{Name: n, Token: Secret(tok)})
	}
	return out
}

// apiTokensSetting lists the callers with their tokens redacted.
func (c *Config) apiTokensSetting() string {
	parts := make([]string, len(c.APITokens))
	for i, t := range c.APITokens {
		parts[i] = t.Name + ":" + t.Token.String()
	}
	return strings.Join(parts, ",")
}
