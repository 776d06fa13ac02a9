package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/password"
	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
)

// TestLoginFailuresAlike: a wrong password and an unknown user get the
// same status and page (but for the name typed back into the form), no
// cookie, and one login_failed audit line each; both go through one
// argon2id verification (verify).
func TestLoginFailuresAlike(t *testing.T) {
	f := newFixture(t, nil)
	wrong := f.login(f.h, "ana", "not her password")
	unknown := f.login(f.h, "nobody", "not her password")
	if wrong.Code != http.StatusUnauthorized || unknown.Code != http.StatusUnauthorized {
		t.Fatalf("statuses %d and %d, want 401 both", wrong.Code, unknown.Code)
	}
	a := strings.Replace(wrong.Body.String(), `value="ana"`, `value="X"`, 1)
	b := strings.Replace(unknown.Body.String(), `value="nobody"`, `value="X"`, 1)
	if a != b || !strings.Contains(a, "Usuario o contraseña incorrectos.") {
		t.Errorf("the answers differ or do not say so:\n%s\n---\n%s", a, b)
	}
	if sessionCookie(wrong) != nil || sessionCookie(unknown) != nil {
		t.Error("a failed login set a session cookie")
	}
	for _, u := range []string{"ana", "nobody"} {
		findAudit(t, f.log, map[string]any{"action": ActionLoginFailed, "user": u, "ip": "192.0.2.1"})
	}
	if strings.Contains(f.log.String(), "not her password") {
		t.Error("the log has the password typed")
	}
}

// TestLoginRateLimited: RATE_LIMIT_LOGIN (5/1m) per address and per user
// name: the 6th attempt in a minute gets 429 even with the right
// password, as a page for a browser and problem+json for a script.
func TestLoginRateLimited(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		f := newFixture(t, nil)
		for i := range 5 {
			if w := f.login(f.h, "user"+string(rune('a'+i)), "guess"); w.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d, want 401", i+1, w.Code)
			}
		}
		w := f.login(f.h, "ana", anaPass)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || sessionCookie(w) != nil {
			t.Fatalf("6th attempt: %d (Retry-After %q), want 429 without a session", w.Code, w.Header().Get("Retry-After"))
		}
		if !strings.Contains(w.Body.String(), "Demasiados intentos") || !strings.Contains(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("429 page: %s", w.Body)
		}
		findAudit(t, f.log, map[string]any{"action": ActionLoginLimited, "user": "ana"})
		// Refusals are logged, not kept in the stream: a client could
		// otherwise push the operators' actions out of it.
		events, err := NewAuditor(f.rdb, slog.New(slog.DiscardHandler), nil).Recent(context.Background(), AuditKeep)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Action == ActionLoginLimited {
				t.Errorf("the audit stream keeps %+v", e)
			}
		}
		// A script gets problem+json.
		s := f.do(f.h, req{method: "POST", path: Root + "/login", form: url.Values{"username": {"ana"}, "password": {anaPass}}})
		var p ratelimit.Problem
		if s.Code != http.StatusTooManyRequests || json.Unmarshal(s.Body.Bytes(), &p) != nil || p.Violated[0] != "login" {
			t.Errorf("script's 7th attempt: %d %s, want 429 problem+json violating login", s.Code, s.Body)
		}
		// Another address still logs in.
		o := f.do(f.h, req{method: "POST", path: Root + "/login", remote: "192.0.2.9:1", form: url.Values{"username": {"vic"}, "password": {vicPass}}, headers: sameOrigin})
		if o.Code != http.StatusSeeOther {
			t.Errorf("another address: %d, want 303", o.Code)
		}
	})
	t.Run("per user name", func(t *testing.T) {
		f := newFixture(t, nil)
		for i := range 5 {
			remote := "198.51.100." + string(rune('1'+i)) + ":1"
			w := f.do(f.h, req{method: "POST", path: Root + "/login", remote: remote, form: url.Values{"username": {"Ana"}, "password": {"guess"}}, headers: sameOrigin})
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d, want 401", i+1, w.Code)
			}
		}
		w := f.do(f.h, req{method: "POST", path: Root + "/login", remote: "203.0.113.7:1", form: url.Values{"username": {"ana"}, "password": {anaPass}}, headers: sameOrigin})
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("6th attempt on ana from a 6th address: %d, want 429", w.Code)
		}
	})
}

// TestSessionAcrossRestart: a session made by one console works on a new
// one on the same Redis (a restart, or another replica); Redis holds it
// under the hash of the token, without any password.
func TestSessionAcrossRestart(t *testing.T) {
	f := newFixture(t, nil)
	token := f.session("ana", anaPass)
	h2, _ := f.restart()
	w := f.do(h2, req{method: "GET", path: Root + "/api/queues", cookie: token, headers: sameOrigin})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "queues") {
		t.Fatalf("after a restart: %d %s", w.Code, w.Body)
	}
	keys, err := f.rdb.Keys(t.Context(), SessionKeyPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(token))
	if len(keys) != 1 || keys[0] != SessionKeyPrefix+hex.EncodeToString(sum[:]) {
		t.Fatalf("session keys %q, want one: the token's SHA-256", keys)
	}
	v, _ := f.rdb.Get(t.Context(), keys[0]).Result()
	if strings.Contains(v, token) || strings.Contains(v, anaPass) || strings.Contains(v, "argon2") {
		t.Errorf("the stored session %s holds a secret", v)
	}
}

// TestLoginRenewsToken: logging in again with a session cookie replaces
// the session: the old token no longer works.
func TestLoginRenewsToken(t *testing.T) {
	f := newFixture(t, nil)
	old := f.session("ana", anaPass)
	w := f.do(f.h, req{method: "POST", path: Root + "/login", cookie: old, form: url.Values{"username": {"ana"}, "password": {anaPass}}, headers: sameOrigin})
	c := sessionCookie(w)
	if w.Code != http.StatusSeeOther || c == nil || c.Value == old {
		t.Fatalf("second login: %d, cookie %v; want a new token", w.Code, c)
	}
	if w := f.do(f.h, req{method: "GET", path: Root + "/api/queues", cookie: old}); w.Code != http.StatusUnauthorized {
		t.Errorf("the old token: %d, want 401", w.Code)
	}
}

// TestLogout: logout deletes the session (the cookie no longer works,
// here or on another replica), clears the cookie, and is audited.
func TestLogout(t *testing.T) {
	f := newFixture(t, nil)
	token := f.session("ana", anaPass)
	page := f.do(f.h, req{method: "GET", path: Root + "/logout", cookie: token, headers: []string{"Sec-Fetch-Mode", "navigate"}})
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `<form class="login" method="post" action="/monitoring/logout">`) {
		t.Errorf("GET logout: %d, want a page with the logout button: %s", page.Code, page.Body)
	}
	w := f.do(f.h, req{method: "POST", path: Root + "/logout", cookie: token, headers: sameOrigin})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != Root+"/login" {
		t.Fatalf("logout: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if c := sessionCookie(w); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout cookie %v, want it deleted", c)
	}
	findAudit(t, f.log, map[string]any{"action": ActionLogout, "user": "ana"})
	h2, _ := f.restart()
	for _, h := range []http.Handler{f.h, h2} {
		if w := f.do(h, req{method: "GET", path: Root + "/api/queues", cookie: token}); w.Code != http.StatusUnauthorized {
			t.Errorf("after logout: %d, want 401", w.Code)
		}
		w := f.do(h, req{method: "GET", path: Root + "/", cookie: token, headers: []string{"Sec-Fetch-Mode", "navigate"}})
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), Root+"/login?next=") {
			t.Errorf("page load after logout: %d to %q, want the login page", w.Code, w.Header().Get("Location"))
		}
	}
}

// TestSessionTimeouts: a session used within CONSOLE_IDLE_TIMEOUT lives
// on; one left idle longer, or older than 12 h however busy, is over.
func TestSessionTimeouts(t *testing.T) {
	get := func(f *fixture, token string) int {
		return f.do(f.h, req{method: "GET", path: Root + "/api/queues", cookie: token}).Code
	}
	t.Run("idle", func(t *testing.T) {
		f := newFixture(t, map[string]string{"CONSOLE_IDLE_TIMEOUT": "10m"})
		token := f.session("vic", vicPass)
		for range 3 {
			f.clock.Advance(9 * time.Minute)
			if c := get(f, token); c != http.StatusOK {
				t.Fatalf("used every 9 minutes: %d, want 200", c)
			}
		}
		f.clock.Advance(10 * time.Minute)
		if c := get(f, token); c != http.StatusUnauthorized {
			t.Fatalf("after 10 idle minutes: %d, want 401", c)
		}
		if n, _ := f.rdb.Exists(t.Context(), sessionKey(token)).Result(); n != 0 {
			t.Error("the expired session is still in Redis")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		f := newFixture(t, nil)
		token := f.session("vic", vicPass)
		for elapsed := 20 * time.Minute; elapsed < 12*time.Hour; elapsed += 20 * time.Minute {
			f.clock.Advance(20 * time.Minute)
			if c := get(f, token); c != http.StatusOK {
				t.Fatalf("at %s: %d, want 200", elapsed, c)
			}
		}
		f.clock.Advance(20 * time.Minute)
		if c := get(f, token); c != http.StatusUnauthorized {
			t.Fatalf("after 12 h: %d, want 401", c)
		}
	})
}

// TestBasicForScripts: HTTP Basic works for scripts with the account's
// role, under the login limits; a browser without credentials gets our
// login page, never the Basic prompt.
func TestBasicForScripts(t *testing.T) {
	f := newFixture(t, nil)
	ok := f.do(f.h, req{method: "GET", path: Root + "/api/queues", basic: []string{"ana", anaPass}})
	if ok.Code != http.StatusOK {
		t.Fatalf("basic: %d %s", ok.Code, ok.Body)
	}
	findAudit(t, f.log, map[string]any{"action": ActionLogin, "user": "ana", "detail": "http basic"})
	// Remembered: further calls spend no login budget.
	for range 10 {
		if w := f.do(f.h, req{method: "GET", path: Root + "/api/queues", basic: []string{"ana", anaPass}}); w.Code != http.StatusOK {
			t.Fatalf("repeated basic call: %d", w.Code)
		}
	}
	viewer := f.do(f.h, req{method: "POST", path: Root + "/api/queues/default:pause", remote: "192.0.2.50:1", basic: []string{"vic", vicPass}})
	if viewer.Code != http.StatusForbidden {
		t.Errorf("viewer's basic POST: %d, want 403", viewer.Code)
	}
	for i := range 4 {
		w := f.do(f.h, req{method: "GET", path: Root + "/api/queues", basic: []string{"ana", "guess"}})
		if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("wrong basic %d: %d (challenge %q)", i+1, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	// 1 good + 4 wrong from this address: the 6th attempt is refused.
	if w := f.do(f.h, req{method: "GET", path: Root + "/api/queues", basic: []string{"vic", "guess"}}); w.Code != http.StatusTooManyRequests {
		t.Errorf("6th basic attempt: %d, want 429", w.Code)
	}
	none := f.do(f.h, req{method: "GET", path: Root + "/api/queues"})
	if none.Code != http.StatusUnauthorized || none.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("script without credentials: %d (challenge %q), want 401 with a Basic challenge", none.Code, none.Header().Get("WWW-Authenticate"))
	}
	xhr := f.do(f.h, req{method: "GET", path: Root + "/api/queues", headers: sameOrigin})
	if xhr.Code != http.StatusUnauthorized || xhr.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("browser fetch without a session: %d (challenge %q), want 401 without a Basic challenge", xhr.Code, xhr.Header().Get("WWW-Authenticate"))
	}
	nav := f.do(f.h, req{method: "GET", path: Root + "/queues/default?x=1", headers: []string{"Accept", "text/html"}})
	if nav.Code != http.StatusSeeOther || nav.Header().Get("Location") != Root+"/login?next="+url.QueryEscape(Root+"/queues/default?x=1") {
		t.Errorf("page load without a session: %d to %q", nav.Code, nav.Header().Get("Location"))
	}
}

// TestLoginPage: the form works without JavaScript (a plain POST form),
// in Spanish or English by the browser, NOTIFY_LANG first.
func TestLoginPage(t *testing.T) {
	tests := []struct {
		name, notifyLang, accept, want string
	}{
		{"browser es", "", "es-ES,es;q=0.9", "Iniciar sesión"},
		{"browser en", "", "en-GB,en;q=0.8", "Log in"},
		{"browser prefers en over es", "", "fr, es;q=0.5, en;q=0.8", "Log in"},
		{"neither", "", "de", "Iniciar sesión"},
		{"NOTIFY_LANG wins", "en", "es", "Log in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			if tt.notifyLang != "" {
				env["NOTIFY_LANG"] = tt.notifyLang
			}
			f := newFixture(t, env)
			w := f.do(f.h, req{method: "GET", path: Root + "/login?next=" + url.QueryEscape(Root+"/audit"), headers: []string{"Accept-Language", tt.accept}})
			body := w.Body.String()
			if w.Code != http.StatusOK || !strings.Contains(body, "<h1>"+tt.want+"</h1>") {
				t.Fatalf("%d, want a page titled %q:\n%s", w.Code, tt.want, body)
			}
			for _, part := range []string{`<form class="login" method="post" action="/monitoring/login">`, `name="username"`, `type="password"`, `name="next" value="/monitoring/audit"`} {
				if !strings.Contains(body, part) {
					t.Errorf("the page lacks %s", part)
				}
			}
			if strings.Contains(body, "<script") {
				t.Error("the login page has a script")
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                        Root + "/",
		Root + "/audit":           Root + "/audit",
		Root + "/queues/x?y=1":    Root + "/queues/x?y=1",
		"https://evil.example/":   Root + "/",
		"//evil.example/monitor":  Root + "/",
		"/\\evil.example":         Root + "/",
		"/api/v1/backups":         Root + "/",
		Root + "login":            Root + "/",
		"javascript:alert(1)":     Root + "/",
		Root + "/../api/v1/tasks": Root + "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLoginVerificationsBounded: while maxVerifying verifications run, a
// further login waits its turn and, when its request ends first, gets 503
// without a verification (memory stays bounded); the turn is then free.
func TestLoginVerificationsBounded(t *testing.T) {
	f := newFixture(t, nil)
	for range maxVerifying {
		f.h.verifying <- struct{}{}
	}
	// Long enough for the login's rate-limit call to Redis on a busy
	// machine (a timeout there answers 503 too, with another text).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, "POST", Root+"/login", strings.NewReader(url.Values{"username": {"ana"}, "password": {anaPass}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(sameOrigin); i += 2 {
		r.Header.Set(sameOrigin[i], sameOrigin[i+1])
	}
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || sessionCookie(w) != nil || !strings.Contains(w.Body.String(), "Demasiados inicios de sesión a la vez") {
		t.Fatalf("login while verifications are full: %d %s", w.Code, w.Body)
	}
	<-f.h.verifying
	if w := f.login(f.h, "ana", anaPass); w.Code != http.StatusSeeOther {
		t.Errorf("login with a free turn: %d, want 303", w.Code)
	}
}

// TestDummyHashCostliest: an unknown user name is verified against a hash
// with the costliest parameters of the accounts, so it takes as long as
// the slowest known one.
func TestDummyHashCostliest(t *testing.T) {
	slow, err := password.NewWith("x", password.Params{Memory: 32 * 1024, Time: 3, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := password.Parse(slow)
	if err != nil {
		t.Fatal(err)
	}
	fast, _ := password.Parse(mustHash(t, "y"))
	d, err := dummyHash(map[string]account{"a": {hash: fast}, "b": {hash: hs}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Params != hs.Params {
		t.Errorf("dummy params %+v, want the costliest %+v", d.Params, hs.Params)
	}
	d, _ = dummyHash(nil)
	if d.Params != password.Default {
		t.Errorf("dummy params without accounts %+v, want the default", d.Params)
	}
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	s, err := password.New(pw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
