package config

import (
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
