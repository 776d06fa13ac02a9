package config

import (
	"net/url"
	"strings"

	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
)

// RateLimit is the rate limiting of the gateway, our routes and the
// console's login (RATE_LIMIT_*, TRUSTED_PROXIES, POS_SESSION_COOKIE). The
// syntax of policies, routes and proxies is internal/ratelimit's.
type RateLimit struct {
	// IP, Token, User: the global policies per client address, per API
	// token and per POS user; Login: the console's login, per IP and per
	// username. Each is named after its variable's suffix in lower case
	// (ip, token, user, login): its Redis key and header name.
	IP, Token, User, Login ratelimit.Policy
	// Routes are the per-endpoint policies (RATE_LIMIT_ROUTES).
	Routes ratelimit.Routes
	// FailOpen: while Redis is down, requests pass (true) or are refused.
	FailOpen bool
	// TrustedProxies are the hops whose X-Forwarded-For is believed.
	TrustedProxies ratelimit.Trust
	// SessionCookie is the name of the POS's Django session cookie.
	SessionCookie string
}

// Rate limit defaults, exported for the README table and tests.
const (
	DefaultRateLimitIP    = "300/1m"
	DefaultRateLimitToken = "600/1m"
	DefaultRateLimitUser  = "120/1m"
	DefaultRateLimitLogin = "5/1m"
)

// rateLimit reads the rate limiting variables.
func (p *parser) rateLimit() RateLimit {
	r := RateLimit{
		IP:       p.policy("RATE_LIMIT_IP", "ip", DefaultRateLimitIP),
		Token:    p.policy("RATE_LIMIT_TOKEN", "token", DefaultRateLimitToken),
		User:     p.policy("RATE_LIMIT_USER", "user", DefaultRateLimitUser),
		Login:    p.policy("RATE_LIMIT_LOGIN", "login", DefaultRateLimitLogin),
		FailOpen: p.boolean("RATE_LIMIT_FAIL_OPEN", true),
	}
	var errs []error
	r.Routes, errs = ratelimit.ParseRoutes(p.str("RATE_LIMIT_ROUTES", ""))
	for _, err := range errs {
		p.fail("RATE_LIMIT_ROUTES", "%v", err)
	}
	r.TrustedProxies, errs = ratelimit.ParseTrust(p.str("TRUSTED_PROXIES", ""))
	for _, err := range errs {
		p.fail("TRUSTED_PROXIES", "%v", err)
	}
	r.SessionCookie = p.str("POS_SESSION_COOKIE", ratelimit.DefaultSessionCookie)
	if err := ratelimit.CheckCookieName(r.SessionCookie); err != nil {
		p.fail("POS_SESSION_COOKIE", "%v", err)
	}
	return r
}

// policy reads one N/DURATION[ burst=B] variable and names the policy.
func (p *parser) policy(name, policyName, def string) ratelimit.Policy {
	pol, err := ratelimit.ParsePolicy(p.str(name, def))
	if err != nil {
		p.fail(name, "%v", err)
	}
	pol.Name = policyName
	return pol
}

// posUpstream reads POS_UPSTREAM_URL: the POS's own address, http or
// https, without credentials (they would be logged and shown), query or
// fragment. A path is kept as a prefix of every proxied path.
func (p *parser) posUpstream() *url.URL {
	raw := p.str("POS_UPSTREAM_URL", "")
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		p.fail("POS_UPSTREAM_URL", "must be the POS's http:// or https:// address, e.g. http://127.0.0.1:8000")
	case u.User != nil:
		p.fail("POS_UPSTREAM_URL", "must not carry credentials (user:password@): the gateway passes each client's own")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		p.fail("POS_UPSTREAM_URL", "must not have a query or fragment: write the POS's base address, e.g. http://127.0.0.1:8000")
	default:
		return u
	}
	return nil
}

// posUpstreamSetting is POS_UPSTREAM_URL as set, "" when unset.
func (c *Config) posUpstreamSetting() string {
	if c.POSUpstream == nil {
		return ""
	}
	return c.POSUpstream.String()
}
