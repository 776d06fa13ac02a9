package console

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// withQueue puts one task on queue default, so that the queue exists.
func withQueue(t *testing.T, f *fixture) *asynq.Inspector {
	t.Helper()
	c := asynq.NewClientFromRedisClient(f.rdb)
	if _, err := c.Enqueue(asynq.NewTask("test:noop", []byte(`{"to":"ana@example.org"}`)), asynq.Queue("default")); err != nil {
		t.Fatal(err)
	}
	return asynq.NewInspectorFromRedisClient(f.rdb)
}

func paused(t *testing.T, insp *asynq.Inspector) bool {
	t.Helper()
	q, err := insp.GetQueueInfo("default")
	if err != nil {
		t.Fatal(err)
	}
	return q.Paused
}

// TestViewerReadOnly: a viewer reads asynqmon, its index says read-only
// (the UI hides the buttons), and every change through its API is
// refused here (403) whatever asynqmon would do; the audit page is for
// operators.
func TestViewerReadOnly(t *testing.T) {
	f := newFixture(t, nil)
	insp := withQueue(t, f)
	token := f.session("vic", vicPass)
	if w := f.do(f.h, req{method: "GET", path: Root + "/api/queues", cookie: token, headers: sameOrigin}); w.Code != http.StatusOK {
		t.Fatalf("viewer reads queues: %d", w.Code)
	}
	index := f.do(f.h, req{method: "GET", path: Root + "/", cookie: token, headers: []string{"Sec-Fetch-Mode", "navigate"}})
	if index.Code != http.StatusOK || !strings.Contains(index.Body.String(), `FLAG_READ_ONLY="true"`) {
		t.Errorf("viewer's index: %d, want read-only: %.600s", index.Code, index.Body)
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/queues/default:pause"},
		{"DELETE", "/api/queues/default"},
		{"POST", "/api/queues/default/archived_tasks:run_all"},
		{"DELETE", "/api/queues/default/pending_tasks/abc"},
		{"PUT", "/api/queues/default"},
	} {
		w := f.do(f.h, req{method: c.method, path: Root + c.path, cookie: token, headers: sameOrigin})
		if w.Code != http.StatusForbidden || !strings.Contains(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("viewer %s %s: %d %s, want 403 JSON", c.method, c.path, w.Code, w.Body)
		}
	}
	if paused(t, insp) {
		t.Error("the viewer paused the queue")
	}
	if w := f.do(f.h, req{method: "GET", path: Root + "/audit", cookie: token, headers: []string{"Sec-Fetch-Mode", "navigate"}}); w.Code != http.StatusForbidden {
		t.Errorf("viewer opens the audit page: %d, want 403", w.Code)
	}
	op := f.session("ana", anaPass)
	opIndex := f.do(f.h, req{method: "GET", path: Root + "/", cookie: op, headers: []string{"Sec-Fetch-Mode", "navigate"}})
	if !strings.Contains(opIndex.Body.String(), `FLAG_READ_ONLY="false"`) {
		t.Errorf("operator's index is read-only: %.600s", opIndex.Body)
	}
}

// TestCrossOrigin: with a valid operator session, a change another site's
// page sends is refused (by Sec-Fetch-Site, or by Origin for browsers
// without it), and so is a login form posted from there; the console's
// own page, and PUBLIC_URL's origin behind a proxy that renames the
// host, pass.
func TestCrossOrigin(t *testing.T) {
	f := newFixture(t, map[string]string{"PUBLIC_URL": "https://ops.example.org"})
	insp := withQueue(t, f)
	token := f.session("ana", anaPass)
	pause := func(headers ...string) int {
		return f.do(f.h, req{method: "POST", path: Root + "/api/queues/default:pause", cookie: token, headers: headers}).Code
	}
	for name, headers := range map[string][]string{
		"cross-site fetch":       {"Sec-Fetch-Site", "cross-site"},
		"same-site subdomain":    {"Sec-Fetch-Site", "same-site", "Origin", "https://pos.example.org"},
		"foreign Origin, no SFS": {"Origin", "https://evil.example"},
	} {
		if c := pause(headers...); c != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, c)
		}
	}
	if paused(t, insp) {
		t.Fatal("a cross-origin request paused the queue")
	}
	login := f.do(f.h, req{method: "POST", path: Root + "/login", form: url.Values{"username": {"ana"}, "password": {anaPass}}, headers: []string{"Sec-Fetch-Site", "cross-site"}})
	if login.Code != http.StatusForbidden || sessionCookie(login) != nil {
		t.Errorf("cross-site login: %d, want 403 without a session", login.Code)
	}
	if c := pause("Sec-Fetch-Site", "same-origin"); c != http.StatusNoContent {
		t.Fatalf("same-origin pause: %d, want asynqmon's 204", c)
	}
	if !paused(t, insp) {
		t.Fatal("the same-origin pause did not pause")
	}
	resume := f.do(f.h, req{method: "POST", path: Root + "/api/queues/default:resume", cookie: token, headers: []string{"Origin", "https://ops.example.org"}})
	if resume.Code != http.StatusNoContent || paused(t, insp) {
		t.Errorf("resume from PUBLIC_URL's origin (host renamed by a proxy): %d, want 204 and resumed", resume.Code)
	}
	if c := pause(); c != http.StatusNoContent {
		t.Errorf("a script's change (no browser headers): %d, want 204", c)
	}
}

// TestAuditTrail: logins, failures, an asynqmon change (with its queue and
// task) and the logout are audit log lines with "audit": true, kept in
// the Redis stream and listed on the audit page, newest first.
func TestAuditTrail(t *testing.T) {
	f := newFixture(t, nil)
	withQueue(t, f)
	f.login(f.h, "ana", "wrong")
	token := f.session("ana", anaPass)
	run := f.do(f.h, req{method: "POST", path: Root + "/api/queues/default/archived_tasks/task-123:run", cookie: token, headers: sameOrigin})
	pause := f.do(f.h, req{method: "POST", path: Root + "/api/queues/default:pause", cookie: token, headers: sameOrigin})
	batch := f.do(f.h, req{method: "POST", path: Root + "/api/queues/default/retry_tasks:batch_run", cookie: token, headers: sameOrigin, body: `{"task_ids":["t1","t2"]}`})
	findAudit(t, f.log, map[string]any{"action": ActionLoginFailed, "user": "ana"})
	findAudit(t, f.log, map[string]any{"action": ActionLogin, "user": "ana", "ip": "192.0.2.1"})
	findAudit(t, f.log, map[string]any{"action": ActionMutation, "user": "ana", "method": "POST", "path": Root + "/api/queues/default/archived_tasks/task-123:run",
		"queue": "default", "task_id": "task-123", "status": float64(run.Code)})
	findAudit(t, f.log, map[string]any{"action": ActionMutation, "queue": "default", "path": Root + "/api/queues/default:pause", "status": float64(pause.Code)})
	findAudit(t, f.log, map[string]any{"action": ActionMutation, "detail": "2 tasks: t1,t2", "status": float64(batch.Code)})

	events, err := f.h.audit.Recent(t.Context(), AuditKeep)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	want := "console_change console_change console_change login login_failed"
	if strings.Join(actions, " ") != want {
		t.Errorf("stream, newest first: %q, want %q", strings.Join(actions, " "), want)
	}
	page := f.do(f.h, req{method: "GET", path: Root + "/audit", cookie: token, headers: []string{"Sec-Fetch-Mode", "navigate", "Accept-Language", "en"}})
	body := page.Body.String()
	if page.Code != http.StatusOK {
		t.Fatalf("audit page: %d %s", page.Code, body)
	}
	for _, part := range []string{"<td>login_failed</td>", "<td>login</td>", Root + "/api/queues/default/archived_tasks/task-123:run", "<td>task-123</td>", "2 tasks: t1,t2", "<td>192.0.2.1</td>"} {
		if !strings.Contains(body, part) {
			t.Errorf("the audit page lacks %q", part)
		}
	}
	if strings.Index(body, "2 tasks: t1,t2") > strings.Index(body, "<td>login_failed</td>") {
		t.Error("the audit page is not newest first")
	}
	f.do(f.h, req{method: "POST", path: Root + "/logout", cookie: token, headers: sameOrigin})
	if e, _ := f.h.audit.Recent(t.Context(), 1); len(e) != 1 || e[0].Action != ActionLogout {
		t.Errorf("newest event after logout: %+v", e)
	}
}

// TestAuditStreamBounded: the stream keeps about the last AuditKeep
// events.
func TestAuditStreamBounded(t *testing.T) {
	f := newFixture(t, nil)
	for i := range AuditKeep + 300 {
		f.h.Audit(t.Context(), Event{Action: ActionAPICall, Token: "pos", Status: i})
	}
	n, err := f.rdb.XLen(t.Context(), AuditStream).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n < AuditKeep || n > AuditKeep+200 {
		t.Errorf("stream length %d, want about %d", n, AuditKeep)
	}
	e, _ := f.h.audit.Recent(t.Context(), 1)
	if len(e) != 1 || e[0].Status != AuditKeep+299 {
		t.Errorf("newest %+v", e)
	}
}

// TestSecurityHeaders: every console answer has the CSP (asynqmon's
// inline scripts allowed by hash, no 'unsafe-inline' scripts, no
// framing), nosniff and Referrer-Policy; HSTS and Secure cookies over
// https only (PUBLIC_URL, or a trusted proxy's X-Forwarded-Proto).
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8"})
	token := f.session("ana", anaPass)
	for _, path := range []string{Root + "/", Root + "/login", Root + "/audit", Root + "/api/queues"} {
		w := f.do(f.h, req{method: "GET", path: path, cookie: token, headers: []string{"Sec-Fetch-Mode", "navigate"}})
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self' 'sha256-") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" || h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: headers %v (no HSTS over http)", path, h)
		}
	}
	if w := f.do(f.h, req{method: "GET", path: Root + "/audit", cookie: token}); w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("audit page Cache-Control %q, want no-store", w.Header().Get("Cache-Control"))
	}
	if w := f.do(f.h, req{method: "GET", path: Root + "/static/js/main.5adda2da.chunk.js", cookie: token}); w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Cache-Control"), "private, ") {
		t.Errorf("asynqmon's script: %d, Cache-Control %q, want private caching", w.Code, w.Header().Get("Cache-Control"))
	}
	// Each inline script asynqmon serves is allowed by its hash.
	for _, user := range [][]string{{"ana", anaPass}, {"vic", vicPass}} {
		w := f.do(f.h, req{method: "GET", path: Root + "/", cookie: f.session(user[0], user[1])})
		scripts := inlineScript.FindAllStringSubmatch(w.Body.String(), -1)
		if len(scripts) != 2 {
			t.Fatalf("%s's index has %d inline scripts, want 2", user[0], len(scripts))
		}
		for _, s := range scripts {
			sum := sha256.Sum256([]byte(s[1]))
			if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(w.Header().Get("Content-Security-Policy"), h) {
				t.Errorf("%s's index: script %.60q not allowed (%s)", user[0], s[1], h)
			}
		}
	}
	plain := f.login(f.h, "ana", anaPass)
	if c := sessionCookie(plain); !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != Root {
		t.Errorf("cookie over http: %+v", c)
	}
	proxied := f.do(f.h, req{method: "POST", path: Root + "/login", remote: "10.1.2.3:5555", form: url.Values{"username": {"ana"}, "password": {anaPass}},
		headers: []string{"X-Forwarded-Proto", "https", "Sec-Fetch-Site", "same-origin"}})
	if c := sessionCookie(proxied); c == nil || !c.Secure || proxied.Header().Get("Strict-Transport-Security") == "" {
		t.Errorf("behind a trusted https proxy: cookie %+v, HSTS %q", c, proxied.Header().Get("Strict-Transport-Security"))
	}
	spoofed := f.do(f.h, req{method: "GET", path: Root + "/login", headers: []string{"X-Forwarded-Proto", "https"}})
	if spoofed.Header().Get("Strict-Transport-Security") != "" {
		t.Error("X-Forwarded-Proto from an untrusted peer turned HSTS on")
	}
	g := newFixture(t, map[string]string{"PUBLIC_URL": "https://ops.example.org"})
	w := g.login(g.h, "ana", anaPass)
	if c := sessionCookie(w); c == nil || !c.Secure || w.Header().Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Errorf("PUBLIC_URL https: cookie %+v, HSTS %q", c, w.Header().Get("Strict-Transport-Security"))
	}
}

func TestChangeEvent(t *testing.T) {
	tests := []struct {
		path, queue, task string
	}{
		{"/api/queues/default:pause", "default", ""},
		{"/api/queues/default", "default", ""},
		{"/api/queues/critical/archived_tasks/0b1c:run", "critical", "0b1c"},
		{"/api/queues/critical/pending_tasks/0b1c", "critical", "0b1c"},
		{"/api/queues/low/retry_tasks:run_all", "low", ""},
		{"/api/queues/low/groups/g1/aggregating_tasks/t9:archive", "low", "t9"},
		{"/api/servers", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r, _ := http.NewRequest("POST", Root+tt.path, nil)
			e := changeEvent(r)
			if e.Queue != tt.queue || e.TaskID != tt.task || e.Action != ActionMutation || e.Method != "POST" {
				t.Errorf("event %+v, want queue %q task %q", e, tt.queue, tt.task)
			}
		})
	}
}

// TestPage: a page mounted with Page is served to the roles it allows,
// in the console's layout, and a change to it from another site is
// refused like any other.
func TestPage(t *testing.T) {
	f := newFixture(t, nil)
	var got []User
	f.h.Page("GET "+Root+"/extra", RoleAny, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		got = append(got, u)
		f.h.Render(w, r, http.StatusOK, "Extra", "<p>hello</p>")
	}))
	f.h.Page("POST "+Root+"/extra", config.RoleOperator, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.h.Audit(r.Context(), Event{Action: ActionBackup, User: "ana", IP: f.h.ClientIP(r)})
		w.WriteHeader(http.StatusAccepted)
	}))
	vic, ana := f.session("vic", vicPass), f.session("ana", anaPass)
	w := f.do(f.h, req{method: "GET", path: Root + "/extra", cookie: vic, headers: []string{"Sec-Fetch-Mode", "navigate"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<h1>Extra</h1>\n<p>hello</p>") || !strings.Contains(w.Body.String(), "vic (viewer)") {
		t.Errorf("viewer GET: %d %s", w.Code, w.Body)
	}
	if len(got) != 1 || got[0] != (User{Name: "vic", Role: config.RoleViewer}) {
		t.Errorf("the page saw %+v", got)
	}
	if w := f.do(f.h, req{method: "POST", path: Root + "/extra", cookie: vic, headers: sameOrigin}); w.Code != http.StatusForbidden {
		t.Errorf("viewer POST: %d, want 403", w.Code)
	}
	if w := f.do(f.h, req{method: "POST", path: Root + "/extra", cookie: ana, headers: []string{"Sec-Fetch-Site", "cross-site"}}); w.Code != http.StatusForbidden {
		t.Errorf("operator's cross-site POST: %d, want 403", w.Code)
	}
	if w := f.do(f.h, req{method: "POST", path: Root + "/extra", cookie: ana, headers: sameOrigin}); w.Code != http.StatusAccepted {
		t.Errorf("operator POST: %d, want 202", w.Code)
	}
	findAudit(t, f.log, map[string]any{"action": ActionBackup, "user": "ana"})
}

// TestPublicAssets: asynqmon's manifest and icons load without a login
// (browsers fetch the manifest without cookies); its scripts and API do not.
func TestPublicAssets(t *testing.T) {
	f := newFixture(t, nil)
	for _, name := range publicAssets {
		if w := f.do(f.h, req{method: "GET", path: Root + "/" + name}); w.Code != http.StatusOK || w.Body.Len() == 0 {
			t.Errorf("%s: %d (%d bytes), want 200", name, w.Code, w.Body.Len())
		}
	}
	for _, path := range []string{"/static/js/main.5adda2da.chunk.js", "/api/queues", "/"} {
		if w := f.do(f.h, req{method: "GET", path: Root + path}); w.Code != http.StatusUnauthorized {
			t.Errorf("%s without a login: %d, want 401", path, w.Code)
		}
	}
}
