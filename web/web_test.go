package web

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/conn"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// server starts the web handler on an httptest server with the given
// environment on top of working Redis and database settings.
func server(t *testing.T, env map[string]string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newServer(t, env, nil).Handler())
	t.Cleanup(ts.Close)
	return ts
}

// newServer builds the web server; mod may change its dependencies first.
func newServer(t *testing.T, env map[string]string, mod func(*Deps)) *Server {
	t.Helper()
	r := testenv.Redis(t)
	mysqlSrv, dbName := testenv.MySQLDatabase(t)
	vars := map[string]string{
		"REDIS_URL":    r.URL(),
		"DATABASE_URL": mysqlSrv.URL(dbName),
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	rdb := conn.Redis(cfg.Redis)
	t.Cleanup(func() { _ = rdb.Close() })
	db, err := conn.DB(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	d := Deps{Redis: rdb, DB: db, Logger: logging.Discard()}
	if mod != nil {
		mod(&d)
	}
	s := New(cfg, d)
	t.Cleanup(s.close)
	return s
}

// closedPort returns an address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type response struct {
	code int
	body string
	hdr  http.Header
}

func do(t *testing.T, method, url string, mod func(*http.Request)) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header}
}

func TestProbes(t *testing.T) {
	ts := server(t, nil)
	if r := do(t, "GET", ts.URL+"/alive/", nil); r.code != 200 || !strings.Contains(r.body, `"pass"`) {
		t.Errorf("GET /alive/ = %d %s", r.code, r.body)
	}
	r := do(t, "GET", ts.URL+"/ready/", nil)
	if r.code != 200 {
		t.Fatalf("GET /ready/ with redis and db up = %d %s", r.code, r.body)
	}
	var rep struct {
		Status string
		Checks map[string][]struct{ Status string }
	}
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
		t.Fatalf("ready body is not a health document: %v: %s", err, r.body)
	}
	if rep.Status != "pass" || rep.Checks["queue_redis"][0].Status != "pass" || rep.Checks["database"][0].Status != "pass" {
		t.Errorf("ready report = %+v", rep)
	}
}

func TestReadyFailsWhenADependencyIsDown(t *testing.T) {
	tests := []struct {
		name   string
		env    func(t *testing.T) map[string]string
		failed string
	}{
		{"redis unreachable", func(t *testing.T) map[string]string {
			return map[string]string{"REDIS_URL": "redis://" + closedPort(t) + "/0"}
		}, "queue_redis"},
		{"database unreachable", func(t *testing.T) map[string]string {
			return map[string]string{"DATABASE_URL": "mysql://cantina:s3cretpw@" + closedPort(t) + "/cantina"}
		}, "database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := server(t, tt.env(t))
			r := do(t, "GET", ts.URL+"/ready/", nil)
			if r.code != http.StatusServiceUnavailable {
				t.Fatalf("GET /ready/ = %d, want 503: %s", r.code, r.body)
			}
			var rep struct {
				Status string
				Checks map[string][]struct{ Status, Output string }
			}
			if err := json.Unmarshal([]byte(r.body), &rep); err != nil || len(rep.Checks[tt.failed]) != 1 {
				t.Fatalf("body is not a health document with %s: %s", tt.failed, r.body)
			}
			if rep.Status != "fail" || rep.Checks[tt.failed][0].Status != "fail" || rep.Checks[tt.failed][0].Output == "" {
				t.Errorf("report = %+v, want %s failing with a reason", rep, tt.failed)
			}
			if strings.Contains(r.body, "s3cretpw") {
				t.Errorf("readiness body leaks the password: %s", r.body)
			}
			if r := do(t, "GET", ts.URL+"/alive/", nil); r.code != 200 {
				t.Errorf("GET /alive/ = %d, want 200 whatever the dependencies", r.code)
			}
		})
	}
}

func TestConsoleLogin(t *testing.T) {
	ts := server(t, map[string]string{"CONSOLE_USER": "operator", "CONSOLE_PASSWORD": "correct horse"})
	auth := func(u, p string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(u, p) }
	}
	for name, mod := range map[string]func(*http.Request){
		"no credentials": nil,
		"wrong password": auth("operator", "wrong"),
		"wrong user":     auth("admin", "correct horse"),
		"empty":          auth("", ""),
	} {
		r := do(t, "GET", ts.URL+"/monitoring/", mod)
		if r.code != 401 || r.hdr.Get("WWW-Authenticate") == "" || !strings.Contains(r.body, `"error"`) {
			t.Errorf("%s: GET /monitoring/ = %d (WWW-Authenticate %q) %s, want 401 JSON with a challenge", name, r.code, r.hdr.Get("WWW-Authenticate"), r.body)
		}
	}
	ok := auth("operator", "correct horse")
	page := do(t, "GET", ts.URL+"/monitoring/", ok)
	if page.code != 200 || !strings.Contains(page.body, "<html") {
		t.Fatalf("GET /monitoring/ with credentials = %d %.200s", page.code, page.body)
	}
	assets := regexp.MustCompile(`(?:src|href)="(/monitoring/[^"]+\.(?:js|css))"`).FindAllStringSubmatch(page.body, -1)
	if len(assets) == 0 {
		t.Fatalf("console page references no scripts or styles: %.500s", page.body)
	}
	for _, a := range assets {
		if r := do(t, "GET", ts.URL+a[1], ok); r.code != 200 || len(r.body) == 0 {
			t.Errorf("asset %s = %d (%d bytes)", a[1], r.code, len(r.body))
		}
		if r := do(t, "GET", ts.URL+a[1], nil); r.code != 401 {
			t.Errorf("asset %s without credentials = %d, want 401", a[1], r.code)
		}
	}
	if r := do(t, "GET", ts.URL+"/monitoring/api/queues", ok); r.code != 200 || !strings.Contains(r.body, "queues") {
		t.Errorf("console API = %d %s", r.code, r.body)
	}
	crossSite := func(r *http.Request) {
		ok(r)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	if r := do(t, "DELETE", ts.URL+"/monitoring/api/queues/default", crossSite); r.code != 403 {
		t.Errorf("cross-site DELETE = %d, want 403", r.code)
	}
	evilOrigin := func(r *http.Request) {
		ok(r)
		r.Header.Set("Origin", "https://evil.example")
	}
	if r := do(t, "POST", ts.URL+"/monitoring/api/queues/default:pause", evilOrigin); r.code != 403 {
		t.Errorf("POST from another origin = %d, want 403", r.code)
	}
}

func TestNoConsoleWithoutCredentials(t *testing.T) {
	ts := server(t, nil)
	if r := do(t, "GET", ts.URL+"/monitoring/", nil); r.code != 404 {
		t.Errorf("GET /monitoring/ without CONSOLE_* = %d, want 404", r.code)
	}
}

func TestBadRequestsGetJSON(t *testing.T) {
	ts := server(t, nil)
	tests := []struct {
		method, path string
		code         int
	}{
		{"GET", "/nope", 404},
		{"POST", "/alive/", 405},
		{"DELETE", "/ready/", 405},
		{"POST", "/health/", 405},
	}
	for _, tt := range tests {
		r := do(t, tt.method, ts.URL+tt.path, nil)
		if r.code != tt.code || !strings.HasPrefix(r.hdr.Get("Content-Type"), "application/json") || !strings.Contains(r.body, `"error"`) {
			t.Errorf("%s %s = %d %s %q, want %d JSON error", tt.method, tt.path, r.code, r.hdr.Get("Content-Type"), r.body, tt.code)
		}
	}
}
