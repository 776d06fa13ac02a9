package ratelimit

import (
	"fmt"
	"strings"
)

// By is what a route policy counts requests by.
type By string

// The subjects a route policy may count by.
const (
	ByIP    By = "ip"    // the client address (Subject of ClientIP)
	ByUser  By = "user"  // the POS user (UserSubject)
	ByToken By = "token" // the API token
)

// RoutePolicy is one policy of a route and what it counts by.
type RoutePolicy struct {
	By     By
	Policy Policy
}

// RouteLimit is one route of RATE_LIMIT_ROUTES: requests with Method (""
// for any) whose path is under Prefix get Policies, on top of the global
// ones.
type RouteLimit struct {
	Method   string
	Prefix   string
	Policies []RoutePolicy
}

// Routes is the per-endpoint policy table (RATE_LIMIT_ROUTES).
type Routes []RouteLimit

// ParseRoutes reads RATE_LIMIT_ROUTES:
//
//	[METHOD ]PREFIX=BY:POLICY[,BY:POLICY…][;…]
//	e.g. POST /ventas/procesar/=user:30/1m burst=10,ip:60/1m;/api/=ip:120/1m
//
// Routes are separated by ';', a route's policies by ','. METHOD is an HTTP
// method (any when left out), PREFIX a path starting with '/', BY one of ip,
// user, token, and POLICY as ParsePolicy reads it. Each policy is named
// BY:[METHOD]PREFIX (user:POST/ventas/procesar/, ip:/api/): that name is its
// Redis key and its name in the RateLimit headers. Empty routes are
// skipped. It returns every bad route, each named by its position and text.
func ParseRoutes(s string) (Routes, []error) {
	var rs Routes
	var errs []error
	seen := map[string]bool{}
	for i, e := range strings.Split(s, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		r, err := parseRoute(e)
		if err == nil && seen[r.Method+" "+r.Prefix] {
			err = fmt.Errorf("%s appears twice; put all its policies in one route", strings.TrimSpace(r.Method+" "+r.Prefix))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("route %d (%q): %w", i+1, e, err))
			continue
		}
		seen[r.Method+" "+r.Prefix] = true
		rs = append(rs, r)
	}
	return rs, errs
}

const routeSyntax = "want [METHOD ]/PATH/=ip|user|token:N/DURATION, e.g. POST /ventas/procesar/=user:30/1m"

func parseRoute(e string) (RouteLimit, error) {
	var r RouteLimit
	lhs, rhs, ok := strings.Cut(e, "=")
	if !ok || strings.TrimSpace(rhs) == "" {
		return r, fmt.Errorf("no policies: %s", routeSyntax)
	}
	switch f := strings.Fields(lhs); len(f) {
	case 1:
		r.Prefix = f[0]
	case 2:
		r.Method, r.Prefix = f[0], f[1]
		if strings.ContainsFunc(r.Method, func(c rune) bool { return c < 'A' || c > 'Z' }) {
			return r, fmt.Errorf("method %q: write it in capitals, e.g. POST", r.Method)
		}
	default:
		return r, fmt.Errorf("%q is not a path or a method and a path: %s", strings.TrimSpace(lhs), routeSyntax)
	}
	if !strings.HasPrefix(r.Prefix, "/") || strings.ContainsAny(r.Prefix, "?#") {
		return r, fmt.Errorf("path %q: want a path starting with /, without ? or #", r.Prefix)
	}
	seen := map[By]bool{}
	for _, ps := range strings.Split(rhs, ",") {
		ps = strings.TrimSpace(ps)
		by, pol, ok := strings.Cut(ps, ":")
		if !ok {
			return r, fmt.Errorf("policy %q: want ip|user|token:N/DURATION, e.g. ip:60/1m", ps)
		}
		b := By(strings.TrimSpace(by))
		switch b {
		case ByIP, ByUser, ByToken:
		default:
			return r, fmt.Errorf("policy %q: counts by %q; want ip, user or token", ps, by)
		}
		if seen[b] {
			return r, fmt.Errorf("two %s policies; keep one", b)
		}
		seen[b] = true
		p, err := ParsePolicy(pol)
		if err != nil {
			return r, err
		}
		p.Name = string(b) + ":" + r.Method + r.Prefix
		if err := p.check(); err != nil {
			return r, fmt.Errorf("path %q: %w", r.Prefix, err)
		}
		r.Policies = append(r.Policies, RoutePolicy{By: b, Policy: p})
	}
	return r, nil
}

// Route is the route whose policies apply to a request with method and
// path (http.Request.URL.Path, decoded): the route with the longest prefix
// that path is under, and at equal prefixes the one naming method before
// the one for any method (methods compared in upper case). A prefix covers the path itself and what lies
// under it as a directory: /api/ covers /api/ and /api/x; /api covers /api
// and /api/x, not /apix. ok is false when no route applies.
func (rs Routes) Route(method, path string) (r RouteLimit, ok bool) {
	// Methods are case-sensitive in HTTP, but Django and most servers
	// upper-case them: "post" must not escape a POST route.
	method = strings.ToUpper(method)
	for _, c := range rs {
		if c.Method != "" && c.Method != method || !under(path, c.Prefix) {
			continue
		}
		if !ok || len(c.Prefix) > len(r.Prefix) || len(c.Prefix) == len(r.Prefix) && c.Method != "" {
			r, ok = c, true
		}
	}
	return r, ok
}

// under reports whether path is prefix or lies under it as a directory.
func under(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || strings.HasSuffix(prefix, "/") || path[len(prefix)] == '/'
}

// String is the table as RATE_LIMIT_ROUTES takes it.
func (rs Routes) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		ps := make([]string, len(r.Policies))
		for j, p := range r.Policies {
			ps[j] = string(p.By) + ":" + p.Policy.String()
		}
		parts[i] = strings.TrimSpace(r.Method+" "+r.Prefix) + "=" + strings.Join(ps, ",")
	}
	return strings.Join(parts, ";")
}
