package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"

	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// djangoDir is contrib/django, the POS's side of the contract.
var djangoDir = filepath.Join("..", "..", "contrib", "django")

// pythonEnv is the environment of the test's Python processes: no
// __pycache__ in the repo, and env on top.
func pythonEnv(env map[string]string) []string {
	e := []string{"PATH=" + os.Getenv("PATH"), "PYTHONDONTWRITEBYTECODE=1"}
	for k, v := range env {
		e = append(e, k+"="+v)
	}
	return e
}

// startPOS starts contrib/django/testdata/posapp.py, a minimal Cantina POS
// (Django's runserver), with env on top of PORT (see posapp.py for its
// settings and views), until the test ends. It returns its base URL once
// it accepts connections; its output is shown if the test fails.
func startPOS(t *testing.T, env map[string]string) (baseURL string) {
	t.Helper()
	base, _ := runPOS(t, env)
	return base
}

// runPOS is startPOS that also returns the POS's output (requests and
// the cantina_ops logger).
func runPOS(t *testing.T, env map[string]string) (string, *testenv.SyncBuffer) {
	t.Helper()
	needDjango(t)
	port := freePort(t)
	all := map[string]string{"PORT": port}
	for k, v := range env {
		all[k] = v
	}
	cmd := exec.Command(djangoPython, filepath.Join(djangoDir, "testdata", "posapp.py"))
	cmd.Env = pythonEnv(all)
	logs, exited := startProcess(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("posapp output:\n%s", logs)
		}
	})
	addr := "127.0.0.1:" + port
	testenv.Eventually(t, 30*time.Second, "posapp listens on "+addr, func() bool {
		select {
		case <-exited:
			t.Fatalf("posapp exited:\n%s", logs)
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return "http://" + addr, logs
}

// TestDjangoRateLimitScript: the Django module runs the very Lua script of
// the Limiter, so both decide alike on the same keys.
func TestDjangoRateLimitScript(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(djangoDir, "cantina_ops.py"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "\nRATE_LIMIT_SCRIPT = \"\"\"")
	py, _, closed := strings.Cut(rest, `"""`)
	if !ok || !closed {
		t.Fatal(`cantina_ops.py has no RATE_LIMIT_SCRIPT = """…""" constant`)
	}
	if py != ratelimit.Script {
		t.Errorf("cantina_ops.RATE_LIMIT_SCRIPT differs from ratelimit.Script:\n%s\nwant:\n%s", py, ratelimit.Script)
	}
}

// TestDjangoRateLimitConformance: on the same cases, the Django module
// computes what internal/ratelimit computes: client address (trusted
// proxies, X-Forwarded-For walk, IPv6 /64), user subject, Redis keys,
// policy arithmetic, route names and route choice.
func TestDjangoRateLimitConformance(t *testing.T) {
	needDjango(t)
	type client struct {
		RemoteAddr    string `json:"remote_addr"`
		XFF           string `json:"xff"`
		Trust         string `json:"trust"`
		Cookie        string `json:"cookie"`
		Authorization string `json:"authorization"`
	}
	clients := []client{
		{RemoteAddr: "203.0.113.5:41000", XFF: "1.2.3.4", Trust: "10.0.0.0/8"},
		{RemoteAddr: "203.0.113.5", XFF: "1.2.3.4", Trust: ""},
		{RemoteAddr: "10.0.0.2:1234", XFF: "198.51.100.7, 10.0.0.9", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1234", XFF: "198.51.100.7,10.0.0.9,10.0.0.8", Trust: "10.0.0.0/8"},
		{RemoteAddr: "172.16.0.1:1", XFF: "198.51.100.7:5555", Trust: "heroku"},
		{RemoteAddr: "172.16.0.1:1", XFF: "1.1.1.1, 2.2.2.2", Trust: "Heroku"},
		{RemoteAddr: "172.16.0.1:1", XFF: "", Trust: "heroku"},
		{RemoteAddr: "[2001:db8:0:1::5]:443", Trust: "10.0.0.0/8"},
		{RemoteAddr: "2001:db8::1:0:0:1", Trust: ""},
		{RemoteAddr: "[::ffff:10.0.0.1]:80", XFF: "9.9.9.9", Trust: ""},
		{RemoteAddr: "::ffff:10.0.0.1", XFF: "9.9.9.9", Trust: "10.0.0.1"},
		{RemoteAddr: "127.0.0.1:9", XFF: "fe80::1%eth0", Trust: "127.0.0.1"},
		{RemoteAddr: "127.0.0.1:9", XFF: "[fe80::1%eth0]:80", Trust: "127.0.0.1"},
		{RemoteAddr: "127.0.0.1:9", XFF: "[2001:db8::7]:5678", Trust: "127.0.0.1"},
		{RemoteAddr: "127.0.0.1:9", XFF: "2001:db8::1:0:0:1", Trust: "127.0.0.1"},
		{RemoteAddr: "127.0.0.1:9", XFF: "2001:DB8:abcd:12:FFFF::1", Trust: "127.0.0.1"},
		{RemoteAddr: "[::1]:5", XFF: "203.0.113.1", Trust: "::1"},
		{RemoteAddr: "[fd00::1]:1", XFF: "2001:db8:abcd:12:ffff::1, fd00::2", Trust: "fd00::/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "198.51.100.7, garbage, 10.0.0.3", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "unknown", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "198.51.100.7,,10.0.0.3", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "10.0.0.5, 10.0.0.6", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "010.0.0.1", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "1.2.3.4%eth0", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "1.2.3.4:", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "[1.2.3.4]:80", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: "1.2.3.4:80:90", Trust: "10.0.0.0/8"},
		{RemoteAddr: "10.0.0.2:1", XFF: " 198.51.100.7 ,\t10.0.0.3 ", Trust: "10.0.0.0/8"},
		{RemoteAddr: "", Trust: ""},
		{RemoteAddr: "@", Trust: "heroku"},
		{RemoteAddr: "1.2.3.4", Trust: "0.0.0.0/0"},
		{RemoteAddr: "1.2.3.4", Trust: "10.0.0.1/8"},
		{RemoteAddr: "1.2.3.4", Trust: "::ffff:10.0.0.0/104"},
		{RemoteAddr: "1.2.3.4", Trust: "10.0.0.0/08"},
		{RemoteAddr: "1.2.3.4", Trust: "fe80::1%eth0"},
		{RemoteAddr: "1.2.3.4", Trust: "10.0.0.0/255.0.0.0"},
		{RemoteAddr: "1.2.3.4", Trust: " 10.0.0.0/8 , ,heroku"},
		{RemoteAddr: "1.2.3.4", Cookie: "abc123", Authorization: "Bearer x"},
		{RemoteAddr: "1.2.3.4", Authorization: "Bearer tok-0123"},
		{RemoteAddr: "1.2.3.4", Authorization: "Basic bWFyw61hOsOxYW5kw7o= ñandú"},
		{RemoteAddr: "1.2.3.4", Cookie: "eyJ1c2VyIjoiYW5hIn0:1xXSkc:qLnjgshbQs1GPDJfqwttSNB8pBPRof9ADK3NqoVynpo"},
	}
	policies := []string{
		"300/1m", "30/1m burst=10", "5/500ms", "1/1h30m", "7/s", "3/m", "2/h", "1/168h",
		"1/1h30m15.5s", "7/1.5s", "3/1s", "1/.5s", "1/5.s", "1000000/1s", "1/1us", "1/1µs", "1/1μs",
		"1/1000ns", "+5/1m", "5/1m  burst=2", "5/1m burst=3 burst=4", "1/1.0000001s", "3/0.333333333s",
		// Refused by both.
		"", "5", "1/7d", "1/168h1ns", "1000001/1s", "1/999ns", "1/.s", "0/1m", "-1/1m", "5/1m burst=0",
		"5/1m;x", "5/1m,burst=2", "5/1m burst=x", "5/0s", "5/0", "5/-1m", "5/1e3s", "1/1m burst",
		"99999999999999999999/1m", "5/1m burst=99999999999999999999", "1/9223372036854775807ns",
		"1/9223372036854775808ns", "1/1h 30m", "5/1M", "٥/1m",
	}
	type routeCase struct {
		Routes string `json:"routes"`
		Method string `json:"method"`
		Path   string `json:"path"`
	}
	const ventas = "POST /ventas/procesar/=user:30/1m burst=10,ip:60/1m;/api/=ip:120/1m"
	routes := []routeCase{
		{ventas, "POST", "/ventas/procesar/"},
		{ventas, "GET", "/ventas/procesar/"},
		{ventas, "GET", "/api/v1/x"},
		{"/api=ip:1/1m", "GET", "/apix"},
		{"/api=ip:1/1m", "GET", "/api/x"},
		{"/api=ip:1/1m", "GET", "/api"},
		{"/ventas/=ip:10/1m;POST /ventas/=user:5/1m", "POST", "/ventas/x"},
		{"POST /ventas/=user:5/1m;/ventas/=ip:10/1m", "GET", "/ventas/x"},
		{"/ventas/=ip:10/1m;/ventas/procesar/=ip:5/1m", "GET", "/ventas/procesar/1"},
		{" ; /a=ip:1/1m ; ", "GET", "/a"},
		{"/x=token:5/1m,user:1/1s", "GET", "/x"},
		// Refused by both.
		{"post /x=ip:1/1m", "GET", "/x"},
		{"/x=ip:1/1m;/x=user:1/1m", "GET", "/x"},
		{"/x=ip:1/1m,ip:2/1m", "GET", "/x"},
		{"x=ip:1/1m", "GET", "/x"},
		{"/x?y=ip:1/1m", "GET", "/x"},
		{"/x=", "GET", "/x"},
		{"/x=bogus:1/1m", "GET", "/x"},
		{"/x=ip", "GET", "/x"},
		{"POST GET /x=ip:1/1m", "GET", "/x"},
		{"/{x}=ip:1/1m", "GET", "/x"},
		{"/a=ip:1/1m;/b=ip:0/1m", "GET", "/a"},
	}

	// Cantina-Ops-Charged values: a structured-field list of strings
	// without parameters, else nothing is taken as charged.
	charged := []string{
		`"ip", "user", "user:POST/ventas/procesar/"`, `"ip"`, "\t\"ip\"", "\"ip\" ", "\"ip\"\t", "\"ip\",\t\"user\"", `"ip" , "user"`, `"ip"	,	"user"`, ` "ip"`,
		`"a\"b"`, `"a\\b"`, `""`, `"ip", "ip"`,
		`ip`, `"ip",`, `,"ip"`, `"ip";a=1`, `"ip",,"user"`, `"ip" "user"`, `("ip")`, `"ñ"`, `"a\b"`, `"ip`, `:aXA=:`, `?1`,
	}
	in, err := json.Marshal(map[string]any{"clients": clients, "policies": policies, "routes": routes, "charged": charged})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(djangoPython, filepath.Join(djangoDir, "testdata", "ratelimit_conformance.py"))
	cmd.Env = pythonEnv(nil)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ratelimit_conformance.py: %v\n%s", err, stderr.String())
	}
	var got struct {
		Clients []struct {
			TrustError bool   `json:"trust_error"`
			IP         string `json:"ip"`
			User       string `json:"user"`
			IPKey      string `json:"ip_key"`
			UserKey    string `json:"user_key"`
		}
		Policies []struct {
			Error              bool
			Limit, Burst       int
			PeriodNS           int64 `json:"period_ns"`
			Interval, Capacity int64
		}
		Routes []struct {
			Error bool
			Names []string
			Match []string
		}
		Charged [][]string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("ratelimit_conformance.py printed %q: %v", out, err)
	}
	if len(got.Clients) != len(clients) || len(got.Policies) != len(policies) || len(got.Routes) != len(routes) || len(got.Charged) != len(charged) {
		t.Fatalf("ratelimit_conformance.py answered %d/%d/%d/%d cases of %d/%d/%d/%d", len(got.Clients), len(got.Policies), len(got.Routes), len(got.Charged), len(clients), len(policies), len(routes), len(charged))
	}

	for i, c := range clients {
		t.Run(fmt.Sprintf("client/%q from %q trust %q", c.XFF, c.RemoteAddr, c.Trust), func(t *testing.T) {
			py := got.Clients[i]
			trust, errs := ratelimit.ParseTrust(c.Trust)
			if py.TrustError != (len(errs) > 0) {
				t.Fatalf("trust %q: Django refuses it = %v, Go's errors: %v", c.Trust, py.TrustError, errs)
			}
			if len(errs) > 0 {
				return
			}
			r := httptest.NewRequest(http.MethodGet, "/ventas/", nil)
			r.RemoteAddr = c.RemoteAddr
			if c.XFF != "" {
				r.Header.Set("X-Forwarded-For", c.XFF)
			}
			if c.Cookie != "" {
				r.Header.Set("Cookie", ratelimit.DefaultSessionCookie+"="+c.Cookie)
			}
			if c.Authorization != "" {
				r.Header.Set("Authorization", c.Authorization)
			}
			cookie := ""
			if ck, err := r.Cookie(ratelimit.DefaultSessionCookie); err == nil {
				cookie = ck.Value
			}
			ip := ratelimit.Subject(ratelimit.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trust))
			user := ratelimit.UserSubject(cookie, r.Header.Get("Authorization"))
			if py.IP != ip || py.User != user {
				t.Errorf("Django's subjects ip %q, user %q; Go's %q, %q", py.IP, py.User, ip, user)
			}
			if k := ratelimit.Key(ratelimit.Policy{Name: "ip"}, ip); py.IPKey != k {
				t.Errorf("Django's ip key %q, Go's %q", py.IPKey, k)
			}
			wantUserKey := ""
			if user != "" {
				wantUserKey = ratelimit.Key(ratelimit.Policy{Name: "user"}, user)
			}
			if py.UserKey != wantUserKey {
				t.Errorf("Django's user key %q, Go's %q", py.UserKey, wantUserKey)
			}
		})
	}

	now := time.Now()
	for i, s := range policies {
		t.Run("policy/"+s, func(t *testing.T) {
			py := got.Policies[i]
			p, err := ratelimit.ParsePolicy(s)
			if py.Error != (err != nil) {
				t.Fatalf("Django refuses it = %v, Go's error: %v", py.Error, err)
			}
			if err != nil {
				return
			}
			// A first request sets the TAT one interval ahead: ResetAfter
			// is the interval the Limiter passes to the script.
			d, _ := ratelimit.Decide(p, time.Time{}, now)
			interval := d.ResetAfter.Microseconds()
			want := [5]int64{int64(p.Limit), int64(p.Burst), int64(p.Period), interval, interval * int64(p.Burst)}
			have := [5]int64{int64(py.Limit), int64(py.Burst), py.PeriodNS, py.Interval, py.Capacity}
			if have != want {
				t.Errorf("Django's limit, burst, period ns, interval µs, capacity µs = %v, Go's %v", have, want)
			}
		})
	}

	for i, rc := range routes {
		t.Run(fmt.Sprintf("routes/%q %s %s", rc.Routes, rc.Method, rc.Path), func(t *testing.T) {
			py := got.Routes[i]
			rs, errs := ratelimit.ParseRoutes(rc.Routes)
			if py.Error != (len(errs) > 0) {
				t.Fatalf("Django refuses it = %v, Go's errors: %v", py.Error, errs)
			}
			if len(errs) > 0 {
				return
			}
			var names, match []string
			for _, r := range rs {
				for _, p := range r.Policies {
					names = append(names, p.Policy.Name)
				}
			}
			if r, ok := rs.Route(rc.Method, rc.Path); ok {
				for _, p := range r.Policies {
					match = append(match, p.Policy.Name)
				}
			}
			if !slices.Equal(py.Names, names) || !slices.Equal(py.Match, match) {
				t.Errorf("Django's policy names %q, chosen %q; Go's %q, %q", py.Names, py.Match, names, match)
			}
		})
	}

	for i, h := range charged {
		t.Run("charged/"+h, func(t *testing.T) {
			if want := chargedNames(h); !slices.Equal(got.Charged[i], want) {
				t.Errorf("Django reads %q as %q, httpsfv as %q", h, got.Charged[i], want)
			}
		})
	}
}

// chargedNames reads a Cantina-Ops-Charged value as the gateway writes
// it: a list of strings without parameters; anything else names nothing.
func chargedNames(v string) []string {
	l, err := httpsfv.UnmarshalList([]string{v})
	if err != nil {
		return nil
	}
	set := map[string]bool{}
	for _, m := range l {
		it, ok := m.(httpsfv.Item)
		s, isString := it.Value.(string)
		if !ok || !isString || len(it.Params.Names()) > 0 {
			return nil
		}
		set[s] = true
	}
	names := slices.Sorted(maps.Keys(set))
	return names
}

// posClient talks to posapp from a chosen loopback address (127.0.0.2 is
// the trusted proxy of these tests, 127.0.0.1 anyone else), without
// following redirects.
func posClient(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// posLogin logs user in on posapp and returns its session cookie's value.
func posLogin(t *testing.T, c *http.Client, base, user string, header http.Header) string {
	t.Helper()
	resp := posDo(t, c, http.MethodGet, base+"/login/?user="+url.QueryEscape(user), "", header)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login %s: %s", user, resp.Status)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == ratelimit.DefaultSessionCookie {
			return ck.Value
		}
	}
	t.Fatalf("login %s: no %s cookie in %v", user, ratelimit.DefaultSessionCookie, resp.Header)
	return ""
}

// posResponse is a response with its body read.
type posResponse struct {
	*http.Response
	Body []byte
}

func posDo(t *testing.T, c *http.Client, method, u, session string, header http.Header) posResponse {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: ratelimit.DefaultSessionCookie, Value: session})
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return posResponse{resp, body}
}

// limitFields is what a response's rate-limit fields say, parsed as
// structured fields where they are ones.
type limitFields struct {
	Name                     string
	Quota, Window, Remaining int64
	Reset                    int64
	XLimit, XRemaining       int
	XReset                   int
	RetryAfter               int // -1 when absent
}

func parseLimitFields(t *testing.T, h http.Header) limitFields {
	t.Helper()
	item := func(field string) httpsfv.Item {
		l, err := httpsfv.UnmarshalList(h.Values(field))
		if err != nil || len(l) != 1 {
			t.Fatalf("%s: %q is not a list of one item (%v)", field, h.Values(field), err)
		}
		it, ok := l[0].(httpsfv.Item)
		if !ok {
			t.Fatalf("%s: %q is not an item", field, h.Values(field))
		}
		return it
	}
	param := func(field string, it httpsfv.Item, k string) int64 {
		v, ok := it.Params.Get(k)
		n, isInt := v.(int64)
		if !ok || !isInt {
			t.Fatalf("%s: no integer parameter %s in %q", field, k, h.Values(field))
		}
		return n
	}
	atoi := func(field string) int {
		n, err := strconv.Atoi(h.Get(field))
		if err != nil {
			t.Fatalf("%s: %q is not a number", field, h.Get(field))
		}
		return n
	}
	pol, lim := item("RateLimit-Policy"), item("RateLimit")
	f := limitFields{
		Quota: param("RateLimit-Policy", pol, "q"), Window: param("RateLimit-Policy", pol, "w"),
		Remaining: param("RateLimit", lim, "r"), Reset: param("RateLimit", lim, "t"),
		XLimit: atoi("X-RateLimit-Limit"), XRemaining: atoi("X-RateLimit-Remaining"), XReset: atoi("X-RateLimit-Reset"),
		RetryAfter: -1,
	}
	name, _ := pol.Value.(string)
	if other, _ := lim.Value.(string); name == "" || other != name {
		t.Fatalf("RateLimit-Policy names %v, RateLimit %v: want one string name", pol.Value, lim.Value)
	}
	f.Name = name
	if h.Get("Retry-After") != "" {
		f.RetryAfter = atoi("Retry-After")
	}
	return f
}

// checkRefused checks a 429 from posapp: the problem document naming the
// policy, and Retry-After within one interval.
func checkRefused(t *testing.T, r posResponse, policy ratelimit.Policy) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %s, want 429: %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	f := parseLimitFields(t, r.Header)
	interval := int(policy.Period / time.Duration(policy.Limit) / time.Second)
	if f.Name != policy.Name || f.Remaining != 0 || f.XRemaining != 0 || f.RetryAfter < 1 || f.RetryAfter > interval+1 {
		t.Errorf("refusal's fields %+v: want %s, nothing remaining, Retry-After in 1..%d", f, policy.Name, interval+1)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("429 body %q: %v", r.Body, err)
	}
	want := map[string]any{
		"type":              "https://iana.org/assignments/http-problem-types#quota-exceeded",
		"title":             "Request cannot be satisfied as assigned quota has been exceeded",
		"status":            float64(429),
		"detail":            fmt.Sprintf("too many requests; retry in %d s", f.RetryAfter),
		"violated-policies": []any{policy.Name},
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("429 body %v, want %v", body, want)
	}
}

// TestDjangoRateLimitDecorator: the decorated view of posapp
// (ratelimit("POST /ventas/decorada/=user:5/1m")) against real Redis lets
// exactly 5 of 8 requests of one session pass, with the RateLimit fields
// counting down, and refuses the rest with 429; another session has its
// own budget; the Go Limiter, on the same Redis, sees the same budgets.
// A Cantina-Ops-Charged header naming the policy skips it from the
// trusted proxy only.
func TestDjangoRateLimitDecorator(t *testing.T) {
	needDjango(t)
	rdb := testenv.Redis(t)
	base := startPOS(t, map[string]string{"CACHE_LOCATION": rdb.URL(),
		"CANTINA_OPS_TRUSTED_PROXIES": "127.0.0.2,127.0.0.3", "CANTINA_OPS_GATEWAYS": "127.0.0.2"})
	routes, errs := ratelimit.ParseRoutes("POST /ventas/decorada/=user:5/1m")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	policy := routes[0].Policies[0].Policy
	anyone, proxy := posClient("127.0.0.1"), posClient("127.0.0.2")
	lim := ratelimit.NewLimiter(rdb.Client(t))
	ctx := context.Background()

	// spend posts n times for session and returns how many passed.
	spend := func(t *testing.T, c *http.Client, session string, n int, header http.Header) (passed int, responses []posResponse) {
		t.Helper()
		for range n {
			r := posDo(t, c, http.MethodPost, base+"/ventas/decorada/", session, header)
			responses = append(responses, r)
			if r.StatusCode == http.StatusOK {
				passed++
			}
		}
		return passed, responses
	}

	ana := posLogin(t, anyone, base, "ana", nil)
	passed, rs := spend(t, anyone, ana, 8, nil)
	if passed != 5 {
		t.Fatalf("%d of 8 requests passed, want 5", passed)
	}
	for i, r := range rs {
		if i < 5 {
			f := parseLimitFields(t, r.Header)
			want := limitFields{Name: policy.Name, Quota: 5, Window: 60, Remaining: int64(4 - i), Reset: f.Reset,
				XLimit: 5, XRemaining: 4 - i, XReset: f.XReset, RetryAfter: -1}
			if f != want || f.Reset < 1 || f.Reset > 60 || int64(f.XReset) != f.Reset {
				t.Errorf("request %d: fields %+v, want %+v with a reset in 1..60 s", i+1, f, want)
			}
			if !bytes.Contains(r.Body, []byte(`"user": "ana"`)) {
				t.Errorf("request %d: body %s", i+1, r.Body)
			}
			continue
		}
		checkRefused(t, r, policy)
	}
	if d, err := lim.Allow(ctx, policy, ratelimit.UserSubject(ana, "")); err != nil || d.Allowed {
		t.Errorf("the Go Limiter allowed ana's sixth request (%v): Django's and Go's budgets differ", err)
	}

	bob := posLogin(t, anyone, base, "bob", nil)
	if passed, _ := spend(t, anyone, bob, 1, nil); passed != 1 {
		t.Fatal("bob's first request refused: sessions share a budget")
	}
	// Bob spent 1 of 5 in Django; the Limiter spends the second.
	if d, err := lim.Allow(ctx, policy, ratelimit.UserSubject(bob, "")); err != nil || !d.Allowed || d.Remaining != 3 {
		t.Errorf("the Go Limiter on bob's budget: %+v, %v; want allowed with 3 remaining", d, err)
	}

	// An allowed request keeps the view's own Retry-After (its 503).
	if r := posDo(t, anyone, http.MethodGet, base+"/ocupada/", "", nil); r.StatusCode != http.StatusServiceUnavailable ||
		r.Header.Get("Retry-After") != "120" || r.Header.Get("RateLimit") == "" {
		t.Errorf("decorated 503: %d, Retry-After %q, RateLimit %q; want the view's 120 and the fields", r.StatusCode, r.Header.Get("Retry-After"), r.Header.Get("RateLimit"))
	}

	charged := http.Header{"Cantina-Ops-Charged": {`"ip", "user", "` + policy.Name + `"`}}
	t.Run("charged by the trusted gateway", func(t *testing.T) {
		carla := posLogin(t, proxy, base, "carla", nil)
		passed, rs := spend(t, proxy, carla, 8, charged)
		if passed != 8 || rs[0].Header.Get("RateLimit") != "" {
			t.Errorf("%d of 8 passed (RateLimit %q); want all, uncounted: the gateway charged them", passed, rs[0].Header.Get("RateLimit"))
		}
		if n, err := rdb.Client(t).Exists(ctx, ratelimit.Key(policy, ratelimit.UserSubject(carla, ""))).Result(); err != nil || n != 0 {
			t.Errorf("carla's key exists (%d, %v): the view charged what the gateway had", n, err)
		}
	})
	t.Run("charged header from an untrusted peer", func(t *testing.T) {
		dora := posLogin(t, anyone, base, "dora", nil)
		if passed, _ := spend(t, anyone, dora, 8, charged); passed != 5 {
			t.Errorf("%d of 8 passed; want 5: the header is believed from the trusted proxy only", passed)
		}
	})
	t.Run("charged header from a trusted proxy that is not a gateway", func(t *testing.T) {
		// A plain proxy (nginx) in CANTINA_OPS_TRUSTED_PROXIES passes a
		// client's forged header on: only CANTINA_OPS_GATEWAYS is believed.
		nginx := posClient("127.0.0.3")
		fay := posLogin(t, nginx, base, "fay", nil)
		if passed, _ := spend(t, nginx, fay, 8, charged); passed != 5 {
			t.Errorf("%d of 8 passed; want 5: the header is believed from a gateway only", passed)
		}
	})
	t.Run("malformed charged header from the trusted proxy", func(t *testing.T) {
		eva := posLogin(t, proxy, base, "eva", nil)
		bad := http.Header{"Cantina-Ops-Charged": {policy.Name}} // a token, not a string
		if passed, _ := spend(t, proxy, eva, 8, bad); passed != 5 {
			t.Errorf("%d of 8 passed; want 5: a header that is not a list of strings charges everything", passed)
		}
	})
}

// TestDjangoRateLimitMiddleware: RateLimitMiddleware with a per-IP policy
// and a route policy: an IP flood is cut while another IP is served; the
// address comes from X-Forwarded-For from the trusted proxy only; a
// session's route budget is its own; the Go Limiter sees the same keys.
func TestDjangoRateLimitMiddleware(t *testing.T) {
	needDjango(t)
	rdb := testenv.Redis(t)
	base := startPOS(t, map[string]string{
		"CACHE_LOCATION": rdb.URL(), "CANTINA_OPS_TRUSTED_PROXIES": "127.0.0.2",
		"RATE_LIMIT_MIDDLEWARE": "1", "CANTINA_OPS_RATE_LIMIT_IP": "6/1h", "CANTINA_OPS_RATE_LIMIT_USER": "",
		// The decorated view's own policy too: each request is charged once.
		"CANTINA_OPS_RATE_LIMIT_ROUTES": "POST /ventas/procesar/=user:3/1h;POST /ventas/decorada/=user:5/1m",
	})
	anyone, proxy := posClient("127.0.0.1"), posClient("127.0.0.2")
	from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }
	ipPolicy, err := ratelimit.ParsePolicy("6/1h")
	if err != nil {
		t.Fatal(err)
	}
	ipPolicy.Name = "ip"

	for i := range 7 {
		r := posDo(t, proxy, http.MethodGet, base+"/echo/", "", from("203.0.113.7"))
		if i < 6 {
			if r.StatusCode != http.StatusOK {
				t.Fatalf("request %d from 203.0.113.7: %s", i+1, r.Status)
			}
			if f := parseLimitFields(t, r.Header); f.Name != "ip" || f.Remaining != int64(5-i) {
				t.Errorf("request %d: fields %+v, want ip with %d remaining", i+1, f, 5-i)
			}
			continue
		}
		checkRefused(t, r, ipPolicy)
	}
	if d, err := ratelimit.NewLimiter(rdb.Client(t)).Allow(context.Background(), ipPolicy, "203.0.113.7"); err != nil || d.Allowed {
		t.Errorf("the Go Limiter allowed 203.0.113.7 (%v): Django's and Go's keys differ", err)
	}
	if r := posDo(t, proxy, http.MethodGet, base+"/echo/", "", from("203.0.113.8")); r.StatusCode != http.StatusOK {
		t.Errorf("another address behind the proxy: %s, want 200", r.Status)
	}
	// From an untrusted peer the header is anyone's to write: ignored.
	if r := posDo(t, anyone, http.MethodGet, base+"/echo/", "", from("203.0.113.7")); r.StatusCode != http.StatusOK {
		t.Errorf("127.0.0.1 claiming to be 203.0.113.7: %s, want 200 (its own budget)", r.Status)
	}

	routes, _ := ratelimit.ParseRoutes("POST /ventas/procesar/=user:3/1h")
	route := routes[0].Policies[0].Policy
	ana := posLogin(t, proxy, base, "ana", from("198.51.100.1"))
	for i := range 4 {
		r := posDo(t, proxy, http.MethodPost, base+"/ventas/procesar/", ana, from("198.51.100.1"))
		if i < 3 {
			if r.StatusCode != http.StatusOK {
				t.Fatalf("ana's sale %d: %s", i+1, r.Status)
			}
			continue
		}
		checkRefused(t, r, route)
	}
	bob := posLogin(t, proxy, base, "bob", from("198.51.100.1"))
	if r := posDo(t, proxy, http.MethodPost, base+"/ventas/procesar/", bob, from("198.51.100.1")); r.StatusCode != http.StatusOK {
		t.Errorf("bob's first sale: %s, want 200 (his own budget)", r.Status)
	}

	// The middleware and the decorator both name user:POST/ventas/decorada/:
	// the decorator skips what the middleware charged, so 5 of 8 pass,
	// not 2. Each request comes from a fresh address, so the ip policy
	// (5 of 6 left) is never the tightest: the user policy's fields win.
	carla := posLogin(t, proxy, base, "carla", from("198.51.100.2"))
	passed := 0
	for i := range 8 {
		r := posDo(t, proxy, http.MethodPost, base+"/ventas/decorada/", carla, from(fmt.Sprintf("192.0.2.%d", i+1)))
		if r.StatusCode == http.StatusOK {
			passed++
			if f := parseLimitFields(t, r.Header); f.Name != "user:POST/ventas/decorada/" || f.Remaining != int64(4-i) {
				t.Errorf("request %d: fields %+v, want user:POST/ventas/decorada/ with %d remaining", i+1, f, 4-i)
			}
		}
	}
	if passed != 5 {
		t.Errorf("%d of 8 passed through the middleware and the decorator, want 5", passed)
	}

	t.Run("the tighter of middleware and decorator", func(t *testing.T) {
		// ip 3/1h from a fresh address leaves 2/3; the decorator's user
		// 5/1m leaves 4/5, then 3/5 (tighter than 2/3), and so on.
		base := startPOS(t, map[string]string{
			"CACHE_LOCATION": rdb.URL(), "CANTINA_OPS_TRUSTED_PROXIES": "127.0.0.2",
			"RATE_LIMIT_MIDDLEWARE": "1", "CANTINA_OPS_RATE_LIMIT_IP": "3/1h", "CANTINA_OPS_RATE_LIMIT_USER": "",
		})
		dora := posLogin(t, proxy, base, "dora", from("198.51.100.3"))
		for i := range 5 {
			r := posDo(t, proxy, http.MethodPost, base+"/ventas/decorada/", dora, from(fmt.Sprintf("192.0.2.%d", 100+i)))
			want := limitFields{Name: "user:POST/ventas/decorada/", Quota: 5, Window: 60, Remaining: int64(4 - i), XLimit: 5, XRemaining: 4 - i}
			if i == 0 {
				want = limitFields{Name: "ip", Quota: 3, Window: 3600, Remaining: 2, XLimit: 3, XRemaining: 2}
			}
			f := parseLimitFields(t, r.Header)
			f.Reset, f.XReset, want.RetryAfter = 0, 0, -1
			if r.StatusCode != http.StatusOK || f != want {
				t.Errorf("request %d: %s, fields %+v, want 200 and %+v", i+1, r.Status, f, want)
			}
		}
	})
}

// TestDjangoRateLimitRedisDown: with Redis unreachable, the decorated view
// passes when failing open (logging a warning without the session) and
// answers 503 problem+json with Retry-After when failing closed.
func TestDjangoRateLimitRedisDown(t *testing.T) {
	needDjango(t)
	const down = "redis://127.0.0.1:1/0"
	c := posClient("127.0.0.1")
	t.Run("fail open", func(t *testing.T) {
		base, logs := runPOS(t, map[string]string{"CACHE_LOCATION": down, "CANTINA_OPS_RATE_LIMIT_FAIL_OPEN": "true"})
		ana := posLogin(t, c, base, "ana", nil)
		r := posDo(t, c, http.MethodPost, base+"/ventas/decorada/", ana, nil)
		if r.StatusCode != http.StatusOK || r.Header.Get("RateLimit") != "" {
			t.Fatalf("%s (RateLimit %q), want 200 without rate-limit fields", r.Status, r.Header.Get("RateLimit"))
		}
		// The line is written before the answer, but reaches our buffer
		// through the process's pipe: wait for it.
		const warning = "rate limiting skipped (fail open): Redis error ConnectionError"
		testenv.Eventually(t, 10*time.Second, "the fail-open warning in posapp's log", func() bool {
			return strings.Contains(logs.String(), warning)
		})
		out := logs.String()
		if strings.Contains(out, ana) || strings.Contains(out, ratelimit.UserSubject(ana, "")[len("session:"):]) {
			t.Errorf("the log shows the session or its hash:\n%s", out)
		}
	})
	t.Run("fail closed", func(t *testing.T) {
		base := startPOS(t, map[string]string{"CACHE_LOCATION": down, "CANTINA_OPS_RATE_LIMIT_FAIL_OPEN": "false"})
		ana := posLogin(t, c, base, "ana", nil)
		r := posDo(t, c, http.MethodPost, base+"/ventas/decorada/", ana, nil)
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Content-Type") != "application/problem+json" || r.Header.Get("Retry-After") != "5" {
			t.Fatalf("%s, Content-Type %q, Retry-After %q; want 503 problem+json, Retry-After 5", r.Status, r.Header.Get("Content-Type"), r.Header.Get("Retry-After"))
		}
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("503 body %q: %v", r.Body, err)
		}
		want := map[string]any{"type": "about:blank", "title": "Service Unavailable", "status": float64(503),
			"detail": "rate limiting cannot reach Redis and fails closed"}
		if !reflect.DeepEqual(body, want) {
			t.Errorf("503 body %v, want %v", body, want)
		}
		// Views without a limit do not need Redis.
		if r := posDo(t, c, http.MethodPost, base+"/ventas/procesar/", ana, nil); r.StatusCode != http.StatusOK {
			t.Errorf("undecorated view: %s", r.Status)
		}
	})
}
