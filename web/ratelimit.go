package web

import (
	"net/http"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
)

// limits are the rate limits of the web process (RATE_LIMIT_*): on our
// own routes (but the probes) per client address, per API token and per
// route; in front of the POS (gateway.go) per client address, per POS user
// and per route. The state is in the cache Redis, which the POS's Django
// decorator shares.
type limits struct {
	cfg   config.RateLimit
	guard *ratelimit.Guard
	// token is the name of the request's valid API token, "" for none.
	token func(*http.Request) string
}

// clientSubject is the request's client address as a rate-limit subject.
func (l *limits) clientSubject(r *http.Request) string {
	return ratelimit.Subject(ratelimit.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), l.cfg.TrustedProxies))
}

// userSubject is the request's POS user as a rate-limit subject, "" for
// none. Of several session cookies the last counts, as Django keeps the
// last: counting by another would let a client send a fresh decoy before
// its real cookie and never spend the real user's budget.
func (l *limits) userSubject(r *http.Request) string {
	cookie := ""
	if cs := r.CookiesNamed(l.cfg.SessionCookie); len(cs) > 0 {
		cookie = cs[len(cs)-1].Value
	}
	return ratelimit.UserSubject(cookie, r.Header.Get("Authorization"))
}

// ours are the checks of a request to one of our routes: its route's
// policies, then the per-address one, then the per-token one for an API
// call with a valid token. No POS user reaches our routes.
func (l *limits) ours(r *http.Request) []ratelimit.Check {
	ip, token := l.clientSubject(r), l.token(r)
	checks := l.route(r, ip, "", token)
	checks = append(checks, ratelimit.Check{Policy: l.cfg.IP, Subject: ip})
	if token != "" {
		checks = append(checks, ratelimit.Check{Policy: l.cfg.Token, Subject: token})
	}
	return checks
}

// pos are the checks of a request to the POS from client address ip (its
// clientSubject): its route's policies, then the per-address one, then the
// per-user one when it has a user.
func (l *limits) pos(r *http.Request, ip string) []ratelimit.Check {
	user := l.userSubject(r)
	checks := l.route(r, ip, user, "")
	checks = append(checks, ratelimit.Check{Policy: l.cfg.IP, Subject: ip})
	if user != "" {
		checks = append(checks, ratelimit.Check{Policy: l.cfg.User, Subject: user})
	}
	return checks
}

// route are the policies of RATE_LIMIT_ROUTES that apply to r, each with
// its subject; a policy whose subject the request lacks (a user policy
// without a user, a token policy without a valid token) does not apply.
func (l *limits) route(r *http.Request, ip, user, token string) []ratelimit.Check {
	rt, ok := l.cfg.Routes.Route(r.Method, r.URL.Path)
	if !ok {
		return nil
	}
	checks := make([]ratelimit.Check, 0, len(rt.Policies)+2)
	for _, p := range rt.Policies {
		subject := ip
		switch p.By {
		case ratelimit.ByUser:
			subject = user
		case ratelimit.ByToken:
			subject = token
		}
		if subject != "" {
			checks = append(checks, ratelimit.Check{Policy: p.Policy, Subject: subject})
		}
	}
	return checks
}

// limitOurs guards one of our routes: 429 (or 503 while Redis is down and
// the limits fail closed) before next runs, else the headers of the policy
// closest to its limit on the answer.
func (l *limits) limitOurs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := l.guard.Decide(r.Context(), l.ours(r))
		if !o.Allowed {
			o.Refuse(w)
			return
		}
		o.Headers(w.Header())
		next.ServeHTTP(w, r)
	})
}
