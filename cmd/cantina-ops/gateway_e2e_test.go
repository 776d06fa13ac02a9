package main

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestGatewayDjango runs `cantina-ops web` as a gateway (POS_UPSTREAM_URL)
// in front of a real Django POS (contrib/django/testdata/posapp.py, Debian's
// Django): the POS's answers, cookies and redirects pass unchanged; two
// sessions get separate per-user budgets for POST /ventas/procesar/; an
// address that floods is cut while another is served; and the Django
// decorator and the gateway share one budget for POST /ventas/decorada/:
// of 8 requests, alternately through the gateway and straight to Django,
// exactly the route's 5 pass.
func TestGatewayDjango(t *testing.T) {
	needDjango(t)
	queue, cacheDB := testenv.Redis(t), testenv.Redis(t)
	pos := startPOS(t, map[string]string{
		"CACHE_LOCATION": cacheDB.URL(),
		// The gateway, and this test's direct requests, come from
		// 127.0.0.1. Django trusts no proxy: it counts by the address the
		// gateway counted (Cantina-Ops-Client).
		"CANTINA_OPS_GATEWAYS": "127.0.0.1",
	})
	port := freePort(t)
	logs := startBinary(t, map[string]string{
		"REDIS_URL": queue.URL(), "CACHE_REDIS_URL": cacheDB.URL(),
		"DATABASE_URL": "mysql://cantina:unused@127.0.0.1:1/cantina", "PORT": port,
		"POS_UPSTREAM_URL": pos,
		// The test plays the trusted proxy in front, naming each client.
		"TRUSTED_PROXIES":   "127.0.0.1",
		"RATE_LIMIT_IP":     "40/1h", // refills one every 90 s: a slow run cannot pass a 41st
		"RATE_LIMIT_ROUTES": "POST /ventas/procesar/=user:3/1m;POST /ventas/decorada/=user:5/1m",
		"HEALTH_SCHEDULE":   "0 0 1 1 *",
	}, "web")
	gw := "http://127.0.0.1:" + port
	waitAlive(t, gw)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type answer struct {
		code int
		hdr  http.Header
		body string
	}
	do := func(method, url, clientIP, cookie string) answer {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if clientIP != "" {
			req.Header.Set("X-Forwarded-For", clientIP)
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v\nweb:\n%s", method, url, err, logs)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(body)}
	}
	// login returns the session cookie the POS set through the gateway.
	login := func(user, clientIP string) string {
		t.Helper()
		a := do("GET", gw+"/login/?user="+user, clientIP, "")
		if a.code != http.StatusFound || a.hdr.Get("Location") != "/ventas/" {
			t.Fatalf("login through the gateway: %d to %q, want 302 to /ventas/", a.code, a.hdr.Get("Location"))
		}
		for _, c := range (&http.Response{Header: a.hdr}).Cookies() {
			if c.Name == "sessionid" {
				return "sessionid=" + c.Value
			}
		}
		t.Fatalf("no session cookie in %q", a.hdr.Values("Set-Cookie"))
		return ""
	}

	t.Run("responses pass unchanged", func(t *testing.T) {
		ana := login("ana", "192.0.2.1")
		direct := do("GET", pos+"/login/?user=ana", "", "")
		viaGW := do("GET", gw+"/login/?user=ana", "192.0.2.1", "")
		if cookieAttrs(viaGW.hdr) != cookieAttrs(direct.hdr) {
			t.Errorf("login cookies through the gateway %q, direct %q", viaGW.hdr.Values("Set-Cookie"), direct.hdr.Values("Set-Cookie"))
		}
		g, d := do("GET", gw+"/ventas/", "192.0.2.1", ana), do("GET", pos+"/ventas/", "", ana)
		if g.code != 200 || g.body != d.body || !strings.Contains(g.body, "Caja de ana") {
			t.Errorf("/ventas/ through the gateway %d %q, direct %d %q", g.code, g.body, d.code, d.body)
		}
		for _, h := range []string{"Set-Cookie", "Content-Type", "Content-Length", "X-Frame-Options", "Vary", "Cache-Control"} {
			if !slices.Equal(g.hdr.Values(h), d.hdr.Values(h)) {
				t.Errorf("%s through the gateway %q, direct %q", h, g.hdr.Values(h), d.hdr.Values(h))
			}
		}
		if g.hdr.Get("RateLimit") == "" || g.hdr.Get("X-Content-Type-Options") != d.hdr.Get("X-Content-Type-Options") {
			t.Errorf("gateway headers %v: want the rate limit fields and no security header of ours", g.hdr)
		}
	})

	t.Run("separate user budgets", func(t *testing.T) {
		for _, u := range []struct{ name, ip string }{{"ana", "192.0.2.10"}, {"beto", "192.0.2.11"}} {
			cookie := login(u.name, u.ip)
			for i := range 4 {
				a := do("POST", gw+"/ventas/procesar/", u.ip, cookie)
				if i < 3 {
					if a.code != 200 || !strings.Contains(a.body, `"user": "`+u.name+`"`) {
						t.Fatalf("%s sale %d: %d %s", u.name, i+1, a.code, a.body)
					}
					continue
				}
				f, err := testenv.ParseRateLimit(a.hdr)
				if a.code != http.StatusTooManyRequests || err != nil || f.Policy != "user:POST/ventas/procesar/" || f.RetryAfter < 1 {
					t.Fatalf("%s sale 4: %d %+v (%v), want 429 by user:POST/ventas/procesar/", u.name, a.code, f, err)
				}
			}
		}
	})

	t.Run("an address flood is cut, another address served", func(t *testing.T) {
		passed := 0
		for range 45 {
			if do("GET", gw+"/ventas/", "192.0.2.66", "").code == 200 {
				passed++
			}
		}
		if passed != 40 {
			t.Errorf("%d of 45 requests from one address passed, want RATE_LIMIT_IP's 40", passed)
		}
		if a := do("GET", gw+"/ventas/", "192.0.2.67", ""); a.code != 200 {
			t.Errorf("another address: %d, want 200", a.code)
		}
	})

	t.Run("Django counts the client the gateway counted", func(t *testing.T) {
		a := do("GET", gw+"/subject/", "192.0.2.77", "")
		if a.code != 200 || a.body != `{"ip": "192.0.2.77"}` {
			t.Errorf("through the gateway: %d %s, want the client behind it", a.code, a.body)
		}
		// Not from a gateway: a forged header is ignored.
		req, _ := http.NewRequest("GET", pos+"/subject/", nil)
		req.Header.Set("Cantina-Ops-Client", "198.51.100.1")
		resp, err := posClient("127.0.0.2").Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != `{"ip": "127.0.0.2"}` {
			t.Errorf("forged %s from a non-gateway: %s, want the peer 127.0.0.2", "Cantina-Ops-Client", body)
		}
	})

	t.Run("decorator and gateway share one budget", func(t *testing.T) {
		carla := login("carla", "192.0.2.20")
		var codes []int
		passed := 0
		for i := range 8 {
			base, ip := gw, "192.0.2.20"
			if i%2 == 1 {
				base, ip = pos, "" // straight to Django: its decorator decides
			}
			a := do("POST", base+"/ventas/decorada/", ip, carla)
			codes = append(codes, a.code)
			switch a.code {
			case 200:
				passed++
			case http.StatusTooManyRequests:
				if f, err := testenv.ParseRateLimit(a.hdr); err != nil || f.Policy != "user:POST/ventas/decorada/" {
					t.Errorf("request %d refused by %+v (%v)", i+1, f, err)
				}
			default:
				t.Fatalf("request %d: %d %s", i+1, a.code, a.body)
			}
		}
		if passed != 5 {
			t.Errorf("%d of 8 mixed requests passed (%v), want the route's 5: one budget, each request spent once", passed, codes)
		}
	})
}

// cookieAttrs is a response's Set-Cookie lines without their values
// (the POS signs each session anew).
func cookieAttrs(h http.Header) string {
	var out []string
	for _, line := range h.Values("Set-Cookie") {
		name, rest, _ := strings.Cut(line, "=")
		_, attrs, _ := strings.Cut(rest, ";")
		out = append(out, name+";"+attrs)
	}
	return strings.Join(out, "\n")
}
