package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// seen is what the upstream of TestGateway saw of a request.
type seen struct {
	Method, Path, Query, Host, Body string
	Header                          http.Header
	RemoteAddr                      string
}

// upstreamPOS is a stand-in POS: /echo/ answers what it saw; /login/
// sets cookies and redirects; /stream/ sends a chunk and waits for the
// test before the next; /limited/ sends its own rate limit fields.
func upstreamPOS(t *testing.T, release <-chan struct{}) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, string(body), r.Header, r.RemoteAddr})
	})
	mux.HandleFunc("/login/", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "abc123", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: "tok", Path: "/"})
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		http.Redirect(w, r, "/ventas/?bienvenido=1", http.StatusFound)
	})
	mux.HandleFunc("/stream/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second\n")
	})
	mux.HandleFunc("/limited/", func(w http.ResponseWriter, r *http.Request) {
		ratelimit.Headers(w.Header(), ratelimit.Policy{Name: "pos", Limit: 100, Period: 60e9, Burst: 100},
			ratelimit.Decision{Allowed: true, Remaining: 1, Limit: 100, ResetAfter: 60e9})
	})
	mux.HandleFunc("/busy/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/hang/", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func gatewayServer(t *testing.T, upstream string, env map[string]string) *httptest.Server {
	t.Helper()
	vars := map[string]string{"POS_UPSTREAM_URL": upstream}
	for k, v := range env {
		vars[k] = v
	}
	ts := httptest.NewServer(newServer(t, vars, nil).Handler())
	t.Cleanup(ts.Close)
	return ts
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func echo(t *testing.T, gw string, mod func(*http.Request)) seen {
	t.Helper()
	req, _ := http.NewRequest("POST", gw+"/echo/caja?x=1&y=%C3%B1", strings.NewReader("venta=1"))
	if mod != nil {
		mod(req)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s seen
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("echo answered %d: %v", resp.StatusCode, err)
	}
	return s
}

// TestGatewayForwarding: the POS gets the request as sent (method, path,
// query, body, Host) with X-Forwarded-* telling the truth: from an
// untrusted client only what the gateway saw, forged values dropped;
// from a trusted proxy its values, with its address appended.
func TestGatewayForwarding(t *testing.T) {
	up := upstreamPOS(t, nil)
	t.Run("untrusted client", func(t *testing.T) {
		gw := gatewayServer(t, up.URL, nil)
		s := echo(t, gw.URL, func(r *http.Request) {
			r.Host = "caja.example.org"
			r.Header.Set("X-Forwarded-For", "203.0.113.66")
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("X-Forwarded-Host", "evil.example")
			r.Header.Set("Forwarded", "for=203.0.113.66")
			r.Header.Set(ratelimit.ChargedHeader, `"ip", "user"`)
			r.Header.Set(ratelimit.ClientHeader, "203.0.113.66")
			// WSGI servers read these as HTTP_X_FORWARDED_FOR and
			// HTTP_CANTINA_OPS_CHARGED: dropped.
			r.Header["X_Forwarded_For"] = []string{"203.0.113.67"}
			r.Header["Cantina_Ops_Charged"] = []string{`"user:pos.views.x"`}
		})
		if s.Method != "POST" || s.Path != "/echo/caja" || s.Query != "x=1&y=%C3%B1" || s.Body != "venta=1" || s.Host != "caja.example.org" {
			t.Errorf("the POS saw %+v", s)
		}
		h := s.Header
		if h.Get("X-Forwarded-For") != "127.0.0.1" || h.Get("X-Forwarded-Proto") != "http" || h.Get("X-Forwarded-Host") != "caja.example.org" || h.Get("Forwarded") != "" {
			t.Errorf("forwarded headers %v, want the peer 127.0.0.1, http and the Host asked for, no Forwarded", h)
		}
		// The gateway charged ip (no session: no user), and says only that.
		if got := h.Values(ratelimit.ChargedHeader); len(got) != 1 || got[0] != `"ip"` {
			t.Errorf("%s = %q, want only the gateway's own \"ip\"", ratelimit.ChargedHeader, got)
		}
		if got := h.Values(ratelimit.ClientHeader); len(got) != 1 || got[0] != "127.0.0.1" {
			t.Errorf("%s = %q, want the address decided by, 127.0.0.1", ratelimit.ClientHeader, got)
		}
		for name := range h {
			if strings.Contains(name, "_") {
				t.Errorf("header %s = %q reached the POS", name, h[name])
			}
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		gw := gatewayServer(t, up.URL, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
		s := echo(t, gw.URL, func(r *http.Request) {
			r.Header.Set("X-Forwarded-For", "198.51.100.7")
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("X-Forwarded-Host", "evil.example")
			r.Host = "caja.example.org"
			r.Header.Set("Cookie", "sessionid=abc123")
		})
		h := s.Header
		if h.Get("X-Forwarded-For") != "198.51.100.7, 127.0.0.1" || h.Get("X-Forwarded-Proto") != "https" || h.Get("X-Forwarded-Host") != "caja.example.org" {
			t.Errorf("forwarded headers %v, want the proxy's values with its address appended, and the Host it passed on", h)
		}
		if h.Get(ratelimit.ClientHeader) != "198.51.100.7" {
			t.Errorf("%s = %q, want the client behind the proxy", ratelimit.ClientHeader, h.Get(ratelimit.ClientHeader))
		}
		if got := h.Get(ratelimit.ChargedHeader); got != `"ip", "user"` {
			t.Errorf("%s = %q, want \"ip\", \"user\"", ratelimit.ChargedHeader, got)
		}
		if h.Get("Cookie") != "sessionid=abc123" {
			t.Errorf("Cookie %q not passed", h.Get("Cookie"))
		}
	})
}

// TestGatewayPassesResponses: the POS's status, cookies, redirects and
// headers reach the client unchanged (no security headers of ours added),
// with the gateway's rate limit fields unless the POS sent tighter ones.
func TestGatewayPassesResponses(t *testing.T) {
	release := make(chan struct{})
	up := upstreamPOS(t, release)
	gw := gatewayServer(t, up.URL, nil)

	resp, err := noRedirect.Get(gw.URL + "/login/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	direct, err := noRedirect.Get(up.URL + "/login/")
	if err != nil {
		t.Fatal(err)
	}
	direct.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != direct.Header.Get("Location") {
		t.Errorf("redirect %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), direct.Header.Get("Location"))
	}
	if got, want := resp.Header.Values("Set-Cookie"), direct.Header.Values("Set-Cookie"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Set-Cookie %q, want %q", got, want)
	}
	if got := resp.Header.Values("X-Frame-Options"); len(got) != 1 || got[0] != "SAMEORIGIN" || resp.Header.Get("X-Content-Type-Options") != "" {
		t.Errorf("X-Frame-Options %q, X-Content-Type-Options %q: the POS's own headers only", got, resp.Header.Get("X-Content-Type-Options"))
	}
	f, err := testenv.ParseRateLimit(resp.Header)
	if err != nil || f.Policy != "ip" {
		t.Errorf("the gateway's fields %+v: %v", f, err)
	}

	// The POS's own fields are tighter (1 of 100 left): they stay.
	resp, err = http.Get(gw.URL + "/limited/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f, err := testenv.ParseRateLimit(resp.Header); err != nil || f.Policy != "pos" || f.XRemaining != 1 {
		t.Errorf("fields %+v (%v), want the POS's tighter ones", f, err)
	}

	// The POS's own Retry-After (its 503) passes: the gateway allowed the
	// request and has no say on when to come back.
	resp, err = http.Get(gw.URL + "/busy/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "120" || resp.Header.Get("RateLimit") == "" {
		t.Errorf("POS's 503: %d, Retry-After %q, RateLimit %q; want 503 with the POS's 120 and our fields", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("RateLimit"))
	}

	// Streaming: the first chunk arrives while the POS still holds the
	// second.
	resp, err = http.Get(gw.URL + "/stream/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	close(release)
	if rest, err := io.ReadAll(br); err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

// TestGatewayOwnRoutesAndLimits: our routes keep their paths with the POS
// behind every other; a flood from one address is cut (429) while another
// address is still served; two sessions have separate user budgets.
func TestGatewayOwnRoutesAndLimits(t *testing.T) {
	up := upstreamPOS(t, nil)
	gw := gatewayServer(t, up.URL, map[string]string{
		"TRUSTED_PROXIES": "127.0.0.1", "RATE_LIMIT_IP": "8/1m", "RATE_LIMIT_USER": "3/1m",
	})
	get := func(path string, headers ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", gw.URL+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/alive/"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/alive/ not ours: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp := get(APIPrefix+"/nothing", "X-Forwarded-For", "192.0.2.50"); resp.StatusCode != 404 {
		t.Errorf("%s/nothing: status %d, want our 404", APIPrefix, resp.StatusCode)
	}
	// Sessions: 3 each, then 429 on user. Each request also spends the
	// address's budget (8), checked before the user's: a refused request
	// did arrive.
	for _, cookie := range []string{"sessionid=ana", "sessionid=beto"} {
		for i := range 4 {
			resp := get("/echo/", "X-Forwarded-For", "192.0.2.1", "Cookie", cookie)
			want := 200
			if i == 3 {
				want = 429
			}
			if resp.StatusCode != want {
				t.Fatalf("%s request %d: status %d, want %d", cookie, i+1, resp.StatusCode, want)
			}
		}
	}
	// 192.0.2.1 has spent its 8: its address is cut, a new session does
	// not help; another address is served.
	if resp := get("/echo/", "X-Forwarded-For", "192.0.2.1", "Cookie", "sessionid=carla"); resp.StatusCode != 429 {
		t.Errorf("flooding address: status %d, want 429", resp.StatusCode)
	} else if f, err := testenv.ParseRateLimit(resp.Header); err != nil || f.Policy != "ip" {
		t.Errorf("flooding address refused by %+v (%v), want ip", f, err)
	}
	if resp := get("/echo/", "X-Forwarded-For", "192.0.2.2", "Cookie", "sessionid=carla"); resp.StatusCode != 200 {
		t.Errorf("another address: status %d, want 200", resp.StatusCode)
	}
}

// TestGatewayEvasions: a request cannot leave its user's or its route's
// budget by sending a decoy session cookie before its own (the last one
// counts, as in Django) or by writing its method in lower case.
func TestGatewayEvasions(t *testing.T) {
	up := upstreamPOS(t, nil)
	gw := gatewayServer(t, up.URL, map[string]string{
		"RATE_LIMIT_USER": "2/1m", "RATE_LIMIT_ROUTES": "POST /echo/=ip:2/1m",
	})
	send := func(method, cookie string) int {
		t.Helper()
		req, _ := http.NewRequest(method, gw.URL+"/echo/", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var codes []int
	for i := range 3 {
		codes = append(codes, send("GET", "sessionid=decoy"+strconv.Itoa(i)+"; sessionid=real"))
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Errorf("decoy cookies before the real one: %v, want the real user's 2 then 429", codes)
	}
	codes = nil
	for _, m := range []string{"POST", "post", "Post"} {
		codes = append(codes, send(m, ""))
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Errorf("POST, post, Post to a POST route: %v, want 2 then 429", codes)
	}
}

// TestGatewayPOSHangs: a POS that takes the request and never answers
// gets the client a 504 page once the upstream header timeout runs out,
// through the real server (whose write timeout must not cut it first).
func TestGatewayPOSHangs(t *testing.T) {
	up := upstreamPOS(t, nil)
	s := newServer(t, map[string]string{"POS_UPSTREAM_URL": up.URL}, nil)
	s.gateway.proxy.Transport.(*http.Transport).ResponseHeaderTimeout = 200 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	resp, err := http.Get("http://" + ln.Addr().String() + "/hang/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), "El punto de venta no responde") {
		t.Errorf("hung POS: %d %s, want the 504 page", resp.StatusCode, body)
	}
}

// TestGatewayPOSDown: a POS that does not answer gets a short 502 page.
func TestGatewayPOSDown(t *testing.T) {
	gw := gatewayServer(t, "http://"+closedPort(t), nil)
	resp, err := http.Get(gw.URL + "/ventas/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), "El punto de venta no responde") || len(body) > 2048 {
		t.Errorf("status %d, %s, %d bytes: %s", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), body)
	}
}
