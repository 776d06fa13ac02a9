// Package console is the operator console under /monitoring: a login page
// (and HTTP Basic for scripts) limited by RATE_LIMIT_LOGIN, sessions in the
// queue Redis, two roles (a viewer gets asynqmon read-only, an operator the
// full one), cross-origin protection and security headers on every answer,
// an audit trail (log lines and a Redis stream shown at /monitoring/audit)
// and task payloads and results redacted in asynqmon.
//
// Files: console.go (routes, who is asking, asynqmon per role), login.go
// (login, logout, HTTP Basic), session.go (the session store), audit.go,
// headers.go (CSP and friends), pages.go (templates, es/en), redact.go.
//
// More pages go behind the same session with Handler.Page; they record
// what operators do with Handler.Audit.
package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/conn"
	"github.com/cantina-pos/cantina-ops/internal/password"
	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
)

// Root is where the console is mounted; asynqmon is at Root + "/".
const Root = "/monitoring"

// Options are the console's dependencies.
type Options struct {
	Config *config.Config
	// Redis keeps sessions and the audit stream: the queue Redis.
	Redis redis.UniversalClient
	// Guard applies RATE_LIMIT_LOGIN per client address and per user name.
	Guard   *ratelimit.Guard
	Auditor *Auditor
	Logger  *slog.Logger
	// Now is the sessions' clock; nil: time.Now.
	Now func() time.Time
	// Backups lists the backups page's destinations; nil says backups are
	// not configured in this process.
	Backups BackupLister
	// Enqueue queues the backups page's tasks.
	Enqueue Enqueuer
}

// Handler serves everything under Root.
type Handler struct {
	cfg      *config.Config
	log      *slog.Logger
	now      func() time.Time
	accounts map[string]account
	// dummy is verified for unknown user names, so that they take as long
	// as a wrong password.
	dummy password.Hash
	// verifying holds a token per argon2id verification running (see
	// maxVerifying).
	verifying chan struct{}
	sessions  *sessions
	guard     *ratelimit.Guard
	audit     *Auditor
	basic     *basicCache
	secure    bool // PUBLIC_URL is https
	csp       string
	monitors  map[config.Role]*asynqmon.HTTPHandler
	backups   BackupLister
	enqueue   Enqueuer
	mux       *http.ServeMux
	handler   http.Handler
}

type account struct {
	name string
	role config.Role
	hash password.Hash
}

// User is the account a console request comes from.
type User struct {
	Name string
	Role config.Role
}

type userKey struct{}

// UserFrom returns the account of a request that passed the console's
// login (pages mounted with Page get one).
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// New builds the console for cfg.Console.Users (at least one). The
// CONSOLE_USER shorthand's password is hashed here, once.
func New(o Options) (*Handler, error) {
	cfg := o.Config
	if len(cfg.Console.Users) == 0 {
		return nil, fmt.Errorf("console: no accounts: set CONSOLE_USERS or CONSOLE_USER and CONSOLE_PASSWORD")
	}
	h := &Handler{
		cfg: cfg, log: o.Logger.With("component", "console"), now: o.Now,
		accounts: map[string]account{}, guard: o.Guard, audit: o.Auditor,
		secure:   strings.HasPrefix(cfg.PublicURL, "https://"),
		monitors: map[config.Role]*asynqmon.HTTPHandler{},
		mux:      http.NewServeMux(),
		backups:  o.Backups, enqueue: o.Enqueue,
		verifying: make(chan struct{}, maxVerifying),
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.sessions = &sessions{rdb: o.Redis, idle: cfg.Console.IdleTimeout, lifetime: config.SessionLifetime, now: h.now}
	var err error
	if h.basic, err = newBasicCache(); err != nil {
		return nil, err
	}
	for _, u := range cfg.Console.Users {
		s := u.Hash.Reveal()
		if !u.Hash.IsSet() {
			if s, err = password.New(u.Password.Reveal()); err != nil {
				return nil, fmt.Errorf("console: hash CONSOLE_PASSWORD: %w", err)
			}
		}
		hash, err := password.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("console: account %s: %w", u.Name, err)
		}
		h.accounts[u.Name] = account{name: u.Name, role: u.Role, hash: hash}
	}
	if h.dummy, err = dummyHash(h.accounts); err != nil {
		return nil, err
	}
	for _, role := range []config.Role{config.RoleViewer, config.RoleOperator} {
		h.monitors[role] = asynqmon.New(asynqmon.Options{
			RootPath:          Root,
			RedisConnOpt:      conn.AsynqRedis{R: cfg.Redis},
			PayloadFormatter:  payloadFormatter,
			ResultFormatter:   resultFormatter,
			PrometheusAddress: cfg.PrometheusURL, // charts on the console's Metrics page
			ReadOnly:          role == config.RoleViewer,
		})
	}
	if h.csp, err = contentSecurityPolicy(h.monitors[config.RoleViewer], h.monitors[config.RoleOperator]); err != nil {
		h.Close()
		return nil, err
	}

	// asynqmon's icons and web app manifest: browsers fetch the manifest
	// without cookies, and none of them tells anything.
	for _, name := range publicAssets {
		h.mux.Handle("GET "+Root+"/"+name, h.monitors[config.RoleViewer])
	}
	h.mux.HandleFunc("GET "+Root+"/login", h.loginPage)
	h.mux.HandleFunc("POST "+Root+"/login", h.loginSubmit)
	h.mux.HandleFunc("POST "+Root+"/logout", h.logout)
	h.Page("GET "+Root+"/logout", RoleAny, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusOK, "logout", pageData{}) // a button: asynqmon's UI has none
	}))
	h.Page("GET "+Root+"/audit", config.RoleOperator, http.HandlerFunc(h.auditPage))
	h.backupPages()
	h.Page(Root+"/", RoleAny, http.HandlerFunc(h.monitor))
	h.mux.Handle(Root, http.RedirectHandler(Root+"/", http.StatusMovedPermanently))

	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin(publicOrigin(cfg.PublicURL)); err != nil {
		h.Close()
		return nil, fmt.Errorf("console: PUBLIC_URL as a trusted origin: %w", err)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		writeError(w, http.StatusForbidden, "cross-origin request refused: the console takes changes only from its own pages")
	}))
	h.handler = h.headers(cop.Handler(h.mux))
	return h, nil
}

// publicAssets are asynqmon's files served without a login.
var publicAssets = []string{
	"manifest.json", "favicon.ico", "favicon-16x16.png", "favicon-32x32.png",
	"apple-touch-icon.png", "android-chrome-192x192.png", "android-chrome-512x512.png",
}

// dummyHash is a hash of a random password with the costliest parameters
// of the accounts' hashes (at least the default ones), so that an unknown
// user name takes as long as the slowest known one.
func dummyHash(accounts map[string]account) (password.Hash, error) {
	p := password.Default
	for _, a := range accounts {
		p.Memory = max(p.Memory, a.hash.Params.Memory)
		p.Time = max(p.Time, a.hash.Params.Time)
		p.Threads = max(p.Threads, a.hash.Params.Threads)
	}
	s, err := password.NewWith(rand.Text(), p)
	if err != nil {
		return password.Hash{}, fmt.Errorf("console: %w", err)
	}
	return password.Parse(s)
}

// publicOrigin is PUBLIC_URL's scheme://host[:port].
func publicOrigin(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// RoleAny lets every account see a page (Page).
const RoleAny = config.RoleViewer

// Page serves page at pattern (a ServeMux pattern under Root, such as
// "GET /monitoring/backups") to logged-in accounts of role
// (config.RoleOperator, or RoleAny). Call it before serving. Every state-changing request
// reaches page only from the console's own origin.
func (h *Handler) Page(pattern string, role config.Role, page http.Handler) {
	h.mux.Handle(pattern, h.require(role, page))
}

// Audit records an event (see Auditor.Audit); ClientIP gives its IP.
func (h *Handler) Audit(ctx context.Context, e Event) { h.audit.Audit(ctx, e) }

// ClientIP is r's client address as the audit records it (see ClientIP).
func (h *Handler) ClientIP(r *http.Request) string {
	return ClientIP(r, h.cfg.RateLimit.TrustedProxies)
}

// ClientIP is r's client address, X-Forwarded-For believed from trusted
// proxies only (TRUSTED_PROXIES); "" when unknown.
func ClientIP(r *http.Request, trusted ratelimit.Trust) string {
	ip := ratelimit.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), trusted)
	if !ip.IsValid() {
		return ""
	}
	return ip.String()
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

// Close closes asynqmon's Redis connections.
func (h *Handler) Close() error {
	var first error
	for _, m := range h.monitors {
		if err := m.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// require passes requests of a logged-in account of role (or above) to
// next, with the account in the context.
func (h *Handler) require(role config.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
		if role == config.RoleOperator && u.Role != config.RoleOperator {
			if wantsHTML(r) {
				h.render(w, r, http.StatusForbidden, "message", pageData{Message: fmt.Sprintf(texts[h.lang(r)]["forbidden"], u.Role)})
				return
			}
			writeError(w, http.StatusForbidden, "this is for operators; your account is a "+string(u.Role))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// monitor serves asynqmon: read-only to viewers (their changes are
// refused here too, 403), in full to operators, each change audited.
func (h *Handler) monitor(w http.ResponseWriter, r *http.Request) {
	u, _ := UserFrom(r.Context())
	change := strings.HasPrefix(r.URL.Path, Root+"/api/") && r.Method != http.MethodGet && r.Method != http.MethodHead
	m := h.monitors[config.RoleViewer]
	if u.Role == config.RoleOperator {
		m = h.monitors[config.RoleOperator]
	}
	switch {
	case u.Role != config.RoleOperator && change:
		writeError(w, http.StatusForbidden, "viewers cannot change anything here; log in as an operator")
		return
	case strings.HasPrefix(r.URL.Path, Root+"/api/") && !change:
		serveBuffered(w, r, m, true)
		return
	case !change:
		m.ServeHTTP(w, r)
		return
	}
	e := changeEvent(r)
	e.User, e.IP = u.Name, h.ClientIP(r)
	e.Status = serveBuffered(w, r, m, false)
	h.audit.Audit(r.Context(), e)
}

// serveBuffered serves r with m through a buffer and returns the status:
// for the audit of a change, or, with redact, to answer an asynqmon API
// read with the tasks' error messages redacted (redactErrors), which
// asynqmon shows as they are.
func serveBuffered(w http.ResponseWriter, r *http.Request, m http.Handler, redact bool) int {
	buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
	m.ServeHTTP(buf, r)
	body := buf.body.Bytes()
	if redact && strings.HasPrefix(buf.header.Get("Content-Type"), "application/json") {
		body = redactErrors(body)
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(buf.status)
	_, _ = w.Write(body)
	return buf.status
}

// bufferedWriter keeps an answer to rewrite it.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) WriteHeader(code int)        { b.status = code }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }

// maxBatchBody bounds the body of a batch change read for the audit.
const maxBatchBody = 64 << 10

// changeEvent describes an asynqmon change: its queue and task from the
// path (/api/queues/{queue}[/{state}_tasks/{task}][:{verb}]), and the
// task ids of a batch from its body, which is put back for asynqmon.
func changeEvent(r *http.Request) Event {
	e := Event{Action: ActionMutation, Method: r.Method, Path: r.URL.Path}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, Root+"/api/"), "/")
	if len(parts) >= 2 && parts[0] == "queues" {
		e.Queue, _, _ = strings.Cut(parts[1], ":")
	}
	for i := 2; i+1 < len(parts); i++ {
		if strings.HasSuffix(parts[i], "_tasks") {
			e.TaskID, _, _ = strings.Cut(parts[i+1], ":")
		}
	}
	if strings.Contains(r.URL.Path, ":batch_") && r.Body != nil {
		body, err := readAll(r, maxBatchBody)
		var b struct {
			TaskIDs []string `json:"task_ids"`
		}
		if err == nil && json.Unmarshal(body, &b) == nil && len(b.TaskIDs) > 0 {
			const shown = 20
			ids := b.TaskIDs
			e.Detail = fmt.Sprintf("%d tasks: %s", len(ids), strings.Join(ids[:min(len(ids), shown)], ","))
			if len(ids) > shown {
				e.Detail += ",…"
			}
		}
	}
	return e
}

// auditPage lists the newest events of the audit stream.
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request) {
	events, err := h.audit.Recent(r.Context(), AuditKeep)
	if err != nil {
		h.log.Error("audit page", "err", err)
		h.render(w, r, http.StatusServiceUnavailable, "message", pageData{Message: texts[h.lang(r)]["noRedis"]})
		return
	}
	h.render(w, r, http.StatusOK, "audit", pageData{Events: events, Keep: AuditKeep, TZ: h.cfg.ScheduleTZ})
}

// wantsHTML reports whether r is a browser's page load (not an API call).
func wantsHTML(r *http.Request) bool {
	if m := r.Header.Get("Sec-Fetch-Mode"); m != "" {
		return m == "navigate"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// writeError writes {"error": msg} with the status code.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
