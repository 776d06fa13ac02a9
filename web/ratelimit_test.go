package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// from sends a request to h as if from the socket address remote, with
// the given headers (name, value pairs).
func from(h http.Handler, method, path, remote string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// refused checks a 429 of policy name: the rate limit fields (parsed as
// structured fields), Retry-After and the problem+json body.
func refused(t *testing.T, w *httptest.ResponseRecorder, name string) {
	t.Helper()
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", w.Code, w.Body)
	}
	f, err := testenv.ParseRateLimit(w.Header())
	if err != nil {
		t.Fatal(err)
	}
	if f.Policy != name || f.Name != name || f.Remaining != 0 || f.XRemaining != 0 || f.RetryAfter < 1 {
		t.Errorf("fields %+v, want policy %q with nothing remaining and a Retry-After", f, name)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	var p ratelimit.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if p.Type != ratelimit.QuotaExceededType || p.Status != 429 || len(p.Violated) != 1 || p.Violated[0] != name {
		t.Errorf("problem %+v, want quota-exceeded violating %q", p, name)
	}
}

// TestRateLimitPerIP: of 8 requests from one address within the window,
// exactly the policy's 5 pass, each with the fields counting down, and
// the other 3 get 429; another address has its own budget; the probes
// are never limited.
func TestRateLimitPerIP(t *testing.T) {
	h := newServer(t, map[string]string{"RATE_LIMIT_IP": "5/1m"}, nil).Handler()
	const path = OpenAPIPath // ours, and needs nothing else
	for i := range 8 {
		w := from(h, "GET", path, "192.0.2.1:4000")
		if i >= 5 {
			refused(t, w, "ip")
			continue
		}
		if w.Code != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, w.Code)
		}
		f, err := testenv.ParseRateLimit(w.Header())
		if err != nil {
			t.Fatal(err)
		}
		want := testenv.RateLimitFields{Policy: "ip", Quota: 5, Window: 60, Name: "ip", Remaining: int64(4 - i),
			Reset: f.Reset, XLimit: 5, XRemaining: int64(4 - i), XReset: f.Reset, RetryAfter: -1}
		if f != want || f.Reset < 12 || f.Reset > 60 {
			t.Errorf("request %d: fields %+v, want %+v with reset in [12, 60] s", i+1, f, want)
		}
	}
	if w := from(h, "GET", path, "192.0.2.2:4000"); w.Code != http.StatusOK {
		t.Errorf("another address: status %d, want 200", w.Code)
	}
	for _, p := range []string{"/alive/", "/ready/"} {
		for range 6 {
			w := from(h, "GET", p, "192.0.2.1:4000")
			if w.Code == http.StatusTooManyRequests || w.Header().Get("RateLimit") != "" {
				t.Fatalf("%s was limited: %d %v", p, w.Code, w.Header())
			}
		}
	}
	// Everything else of ours is limited, even what does not exist.
	refused(t, from(h, "GET", "/health/", "192.0.2.1:4000"), "ip")
	refused(t, from(h, "GET", "/no/such/page", "192.0.2.1:4000"), "ip")
}

// TestRateLimitForwardedFor: X-Forwarded-For is ignored from a hop that
// is not in TRUSTED_PROXIES, and from one that is, its right-most
// untrusted entry is the client; IPv6 clients count by /64.
func TestRateLimitForwardedFor(t *testing.T) {
	h := newServer(t, map[string]string{"RATE_LIMIT_IP": "2/1m", "TRUSTED_PROXIES": "10.0.0.0/8"}, nil).Handler()
	get := func(remote string, xff ...string) int {
		var hdr []string
		for _, v := range xff {
			hdr = append(hdr, "X-Forwarded-For", v)
		}
		return from(h, "GET", OpenAPIPath, remote, hdr...).Code
	}
	// A client spends its budget, then forges other addresses: each is
	// still its own (the peer, untrusted).
	for range 2 {
		if c := get("192.0.2.1:1"); c != 200 {
			t.Fatalf("status %d, want 200", c)
		}
	}
	for _, forged := range []string{"198.51.100.7", "198.51.100.8, 10.0.0.1"} {
		if c := get("192.0.2.1:1", forged); c != http.StatusTooManyRequests {
			t.Errorf("X-Forwarded-For %q from an untrusted peer: status %d, want 429", forged, c)
		}
	}
	// Through the trusted proxy, the client it names is limited, and a
	// client in front of a forged entry is the right-most untrusted one.
	if c := get("10.0.0.5:1", "192.0.2.1"); c != http.StatusTooManyRequests {
		t.Errorf("192.0.2.1 through the trusted proxy: status %d, want 429", c)
	}
	if c := get("10.0.0.5:1", "192.0.2.1, 198.51.100.7"); c != 200 {
		t.Errorf("198.51.100.7 (forging 192.0.2.1 in front) through the trusted proxy: status %d, want 200", c)
	}
	if c := get("10.0.0.5:1", "192.0.2.1, 198.51.100.7", "10.1.1.1"); c != 200 {
		t.Errorf("198.51.100.7 through two trusted proxies: status %d, want 200", c)
	}
	if c := get("10.0.0.5:1", "198.51.100.7"); c != http.StatusTooManyRequests {
		t.Errorf("198.51.100.7's third request: status %d, want 429", c)
	}
	// IPv6: two addresses of one /64 share a budget; another /64 does not.
	for _, a := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::ffff]:1"} {
		if c := get(a); c != 200 {
			t.Fatalf("%s: status %d, want 200", a, c)
		}
	}
	if c := get("[2001:db8:1:2:abcd::1]:1"); c != http.StatusTooManyRequests {
		t.Errorf("a third address of the same /64: status %d, want 429", c)
	}
	if c := get("[2001:db8:1:3::1]:1"); c != 200 {
		t.Errorf("another /64: status %d, want 200", c)
	}
}

// TestRateLimitTokenAndRoute: an API call counts against its token's
// budget whatever its address, and a RATE_LIMIT_ROUTES policy applies to
// the paths under its prefix, named after it.
func TestRateLimitTokenAndRoute(t *testing.T) {
	h := newServer(t, map[string]string{
		"RATE_LIMIT_TOKEN":  "3/1m",
		"RATE_LIMIT_ROUTES": "GET " + APIPrefix + "/openapi.json=ip:2/1m",
		"API_TOKENS":        "pos:pos-token-0123456789abcdef,other:other-token-0123456789abcdef",
	}, nil).Handler()
	for i, remote := range []string{"192.0.2.1:1", "192.0.2.2:1", "192.0.2.3:1", "192.0.2.4:1"} {
		w := from(h, "GET", APIPrefix+"/tasks/nope", remote, "Authorization", "Bearer pos-token-0123456789abcdef")
		if i < 3 {
			if w.Code == http.StatusTooManyRequests {
				t.Fatalf("call %d: 429 too early", i+1)
			}
			continue
		}
		refused(t, w, "token")
	}
	if w := from(h, "GET", APIPrefix+"/tasks/nope", "192.0.2.4:1", "Authorization", "Bearer other-token-0123456789abcdef"); w.Code == http.StatusTooManyRequests {
		t.Errorf("another token: 429, want its own budget")
	}
	// A wrong token spends no token budget: it is not a token.
	if w := from(h, "GET", APIPrefix+"/tasks/nope", "192.0.2.5:1", "Authorization", "Bearer pos-token-wrong"); w.Code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", w.Code)
	}
	name := "ip:GET" + APIPrefix + "/openapi.json"
	for range 2 {
		if w := from(h, "GET", OpenAPIPath, "192.0.2.9:1"); w.Code != 200 {
			t.Fatalf("status %d, want 200", w.Code)
		}
	}
	refused(t, from(h, "GET", OpenAPIPath, "192.0.2.9:1"), name)
}

// TestRateLimitRedisDown: while the rate limits' Redis cannot be
// reached, RATE_LIMIT_FAIL_OPEN=true lets requests pass without fields
// and false answers 503 problem+json; the probes answer either way.
func TestRateLimitRedisDown(t *testing.T) {
	for _, open := range []string{"true", "false"} {
		t.Run("fail_open="+open, func(t *testing.T) {
			down := redis.NewClient(&redis.Options{Addr: closedPort(t), MaxRetries: -1})
			t.Cleanup(func() { _ = down.Close() })
			h := newServer(t, map[string]string{"RATE_LIMIT_IP": "1/1m", "RATE_LIMIT_FAIL_OPEN": open},
				func(d *Deps) { d.Limits = down }).Handler()
			for range 3 {
				w := from(h, "GET", OpenAPIPath, "192.0.2.1:1")
				if open == "true" {
					if w.Code != http.StatusOK || w.Header().Get("RateLimit") != "" {
						t.Fatalf("fail-open: status %d, RateLimit %q; want 200 without fields", w.Code, w.Header().Get("RateLimit"))
					}
					continue
				}
				if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" ||
					w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), "fails closed") {
					t.Fatalf("fail-closed: %d %v %s; want 503 problem+json with Retry-After 5", w.Code, w.Header(), w.Body)
				}
			}
			if w := from(h, "GET", "/alive/", "192.0.2.1:1"); w.Code != http.StatusOK {
				t.Errorf("/alive/: status %d, want 200", w.Code)
			}
		})
	}
}

// TestRateLimitSharedByReplicas: two web processes on one Redis share each
// budget: 3 requests to one and 2 to the other spend the 5.
func TestRateLimitSharedByReplicas(t *testing.T) {
	shared := testenv.Redis(t).Client(t)
	env := map[string]string{"RATE_LIMIT_IP": "5/1m"}
	a := newServer(t, env, func(d *Deps) { d.Limits = shared }).Handler()
	b := newServer(t, env, func(d *Deps) { d.Limits = shared }).Handler()
	for i, h := range []http.Handler{a, a, a, b, b} {
		if w := from(h, "GET", OpenAPIPath, "192.0.2.1:1"); w.Code != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, w.Code)
		}
	}
	refused(t, from(a, "GET", OpenAPIPath, "192.0.2.1:1"), "ip")
	refused(t, from(b, "GET", OpenAPIPath, "192.0.2.1:1"), "ip")
}
