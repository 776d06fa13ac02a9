package console

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/password"
	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// The test accounts: ana operates, vic views.
const (
	anaPass = "ana correct horse"
	vicPass = "vic battery staple"
)

var (
	hashOnce         sync.Once
	anaHash, vicHash string
)

func testHashes(t *testing.T) (string, string) {
	t.Helper()
	hashOnce.Do(func() {
		anaHash, _ = password.New(anaPass)
		vicHash, _ = password.New(vicPass)
	})
	return anaHash, vicHash
}

// clock is the sessions' injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a console on a Redis database of its own.
type fixture struct {
	t     *testing.T
	redis testenv.RedisDB
	rdb   *redis.Client
	clock *clock
	env   map[string]string
	h     *Handler
	log   *testenv.SyncBuffer
	// opts, when set, changes the console's Options at every (re)start.
	opts func(*Options)
}

// newFixture builds a console for ana and vic with env on top; its log
// lines (JSON) are in f.log.
func newFixture(t *testing.T, env map[string]string) *fixture {
	t.Helper()
	return newFixtureWith(t, env, nil)
}

// newFixtureWith is newFixture with opts changing the console's Options.
func newFixtureWith(t *testing.T, env map[string]string, opts func(*Options)) *fixture {
	t.Helper()
	r := testenv.Redis(t)
	f := &fixture{t: t, redis: r, rdb: r.Client(t), clock: &clock{t: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}, env: env, opts: opts}
	f.h, f.log = f.restart()
	return f
}

// restart builds a new console (a web restart, or another replica) on the
// same Redis and clock.
func (f *fixture) restart() (*Handler, *testenv.SyncBuffer) {
	t := f.t
	t.Helper()
	ana, vic := testHashes(t)
	vars := map[string]string{
		"REDIS_URL":     f.redis.URL(),
		"DATABASE_URL":  "mysql://pos:pospw@127.0.0.1:1/pos",
		"CONSOLE_USERS": "ana:operator:" + ana + ",vic:viewer:" + vic,
	}
	for k, v := range f.env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	buf := &testenv.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(buf, nil))
	o := Options{
		Config: cfg, Redis: f.rdb, Logger: log, Now: f.clock.Now,
		Guard:   &ratelimit.Guard{Limiter: ratelimit.NewLimiter(f.rdb), Logger: log},
		Auditor: NewAuditor(f.rdb, log, f.clock.Now),
	}
	if f.opts != nil {
		f.opts(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, buf
}

// req is a request to the console: method, path, then options.
type req struct {
	method, path string
	form         url.Values
	cookie       string // session token
	remote       string // RemoteAddr; default 192.0.2.1:1234
	headers      []string
	basic        []string // user, password
	body         string
}

func (f *fixture) do(h http.Handler, q req) *httptest.ResponseRecorder {
	f.t.Helper()
	var r *http.Request
	switch {
	case q.form != nil:
		r = httptest.NewRequest(q.method, q.path, strings.NewReader(q.form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case q.body != "":
		r = httptest.NewRequest(q.method, q.path, strings.NewReader(q.body))
		r.Header.Set("Content-Type", "application/json")
	default:
		r = httptest.NewRequest(q.method, q.path, nil)
	}
	r.RemoteAddr = "192.0.2.1:1234"
	if q.remote != "" {
		r.RemoteAddr = q.remote
	}
	if q.cookie != "" {
		r.AddCookie(&http.Cookie{Name: CookieName, Value: q.cookie})
	}
	if q.basic != nil {
		r.SetBasicAuth(q.basic[0], q.basic[1])
	}
	for i := 0; i+1 < len(q.headers); i += 2 {
		r.Header.Set(q.headers[i], q.headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// login posts the login form from a browser on the console's origin.
func (f *fixture) login(h http.Handler, user, pw string, extra ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	headers := append([]string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate", "Accept", "text/html"}, extra...)
	return f.do(h, req{method: "POST", path: Root + "/login", form: url.Values{"username": {user}, "password": {pw}}, headers: headers})
}

// session logs user in and returns the session cookie's value.
func (f *fixture) session(user, pw string) string {
	f.t.Helper()
	w := f.login(f.h, user, pw)
	if w.Code != http.StatusSeeOther {
		f.t.Fatalf("login %s: %d %s", user, w.Code, w.Body)
	}
	c := sessionCookie(w)
	if c == nil || c.Value == "" {
		f.t.Fatalf("login %s: no session cookie in %v", user, w.Header())
	}
	return c.Value
}

func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	return nil
}

// sameOrigin are the headers of a fetch from the console's own page.
var sameOrigin = []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}

// auditLines are the audit log lines, decoded.
func auditLines(t *testing.T, log *testenv.SyncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			continue
		}
		if m["audit"] == true {
			out = append(out, m)
		}
	}
	return out
}

// findAudit returns the first audit line whose fields include want.
func findAudit(t *testing.T, log *testenv.SyncBuffer, want map[string]any) map[string]any {
	t.Helper()
	for _, m := range auditLines(t, log) {
		ok := true
		for k, v := range want {
			if m[k] != v {
				ok = false
			}
		}
		if ok {
			return m
		}
	}
	t.Errorf("no audit line with %v in:\n%s", want, log.String())
	return nil
}
