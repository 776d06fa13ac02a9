package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
)

// CookieName is the session cookie's name. It is scoped to Root, so the
// POS behind the gateway never receives it.
const CookieName = "cantina_console"

// maxLoginBody bounds a login form.
const maxLoginBody = 8 << 10

// maxNameLen bounds the user name an audit event records as typed.
const maxNameLen = 64

// loginPage shows the login form.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "login", pageData{Next: safeNext(r.URL.Query().Get("next"))})
}

// loginSubmit checks a login form: first RATE_LIMIT_LOGIN per client
// address and per user name (every attempt counts), then the password.
// An unknown user and a wrong password get the same page, status and
// (argon2id) work. A good one gets a new session, replacing any the
// browser had, and goes on to next.
func (h *Handler) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "bad login form")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("username"))
	pw := r.PostFormValue("password")
	d := pageData{Username: name, Next: safeNext(r.PostFormValue("next"))}
	ip := h.ClientIP(r)
	t := texts[h.lang(r)]
	if o := h.guard.Decide(r.Context(), h.loginChecks(r, name)); !o.Allowed {
		h.audit.LogOnly(r.Context(), Event{Action: ActionLoginLimited, User: clip(name), IP: ip})
		if !wantsHTML(r) {
			o.Refuse(w)
			return
		}
		code := http.StatusTooManyRequests
		d.Error = fmt.Sprintf(t["tooMany"], strconv.Itoa(int((o.Tightest.RetryAfter+time.Second-1)/time.Second)))
		if o.Unavailable {
			code, d.Error = http.StatusServiceUnavailable, t["noRedis"]
			w.Header().Set("Retry-After", strconv.Itoa(ratelimit.UnavailableRetryAfter))
		}
		o.Headers(w.Header())
		h.render(w, r, code, "login", d)
		return
	}
	a, ok, err := h.verify(r.Context(), name, pw)
	if err != nil {
		h.log.Warn("login: "+err.Error(), "ip", ip)
		w.Header().Set("Retry-After", "5")
		d.Error = t["busy"]
		h.render(w, r, http.StatusServiceUnavailable, "login", d)
		return
	}
	if !ok {
		h.audit.Audit(r.Context(), Event{Action: ActionLoginFailed, User: clip(name), IP: ip})
		d.Error = t["badLogin"]
		h.render(w, r, http.StatusUnauthorized, "login", d)
		return
	}
	if c, err := r.Cookie(CookieName); err == nil {
		_ = h.sessions.destroy(r.Context(), c.Value) // a new token at each login
	}
	token, err := h.sessions.create(r.Context(), a.name)
	if err != nil {
		h.log.Error("login: session not stored", "user", a.name, "err", err)
		d.Error = t["noRedis"]
		h.render(w, r, http.StatusServiceUnavailable, "login", d)
		return
	}
	http.SetCookie(w, h.cookie(r, token, 0))
	h.audit.Audit(r.Context(), Event{Action: ActionLogin, User: a.name, IP: ip})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends the browser's session and goes back to the login page.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		s, err := h.sessions.get(r.Context(), c.Value)
		if err == nil {
			h.audit.Audit(r.Context(), Event{Action: ActionLogout, User: s.User, IP: h.ClientIP(r)})
		}
		if err := h.sessions.destroy(r.Context(), c.Value); err != nil {
			h.log.Error("logout: session not deleted", "err", err)
			writeError(w, http.StatusServiceUnavailable, "could not end the session (the queue Redis is unreachable); try again")
			return
		}
	}
	http.SetCookie(w, h.cookie(r, "", -1))
	http.Redirect(w, r, Root+"/login", http.StatusSeeOther)
}

// authenticate finds r's account from its session cookie, else its HTTP
// Basic credentials. Without either it answers: a page load goes to the
// login page, anything else gets 401 (with a Basic challenge only for
// clients that are not browsers, so that browsers show our page rather
// than their prompt).
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (User, bool) {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		s, err := h.sessions.get(r.Context(), c.Value)
		switch {
		case err == nil:
			if a, ok := h.accounts[s.User]; ok {
				return User{Name: a.name, Role: a.role}, true
			}
			_ = h.sessions.destroy(r.Context(), c.Value) // the account is gone
		case !errors.Is(err, errNoSession):
			h.log.Error("session unreadable", "err", err)
			writeError(w, http.StatusServiceUnavailable, "could not read the session (the queue Redis is unreachable); try again")
			return User{}, false
		}
		http.SetCookie(w, h.cookie(r, "", -1))
	}
	if name, pw, ok := r.BasicAuth(); ok {
		return h.basicLogin(w, r, name, pw)
	}
	if wantsHTML(r) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		http.Redirect(w, r, Root+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return User{}, false
	}
	if r.Header.Get("Sec-Fetch-Mode") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="cantina-ops console", charset="UTF-8"`)
	}
	writeError(w, http.StatusUnauthorized, "login required: log in at "+Root+"/login, or send HTTP Basic credentials")
	return User{}, false
}

// basicLogin checks HTTP Basic credentials as a login: under the same
// RATE_LIMIT_LOGIN budgets and with the same audit. Credentials that
// passed are remembered for basicTTL, so that a script's further calls
// are neither hashed again nor counted.
func (h *Handler) basicLogin(w http.ResponseWriter, r *http.Request, name, pw string) (User, bool) {
	now := h.now()
	if user, ok := h.basic.get(name, pw, now); ok {
		if a, ok := h.accounts[user]; ok {
			return User{Name: a.name, Role: a.role}, true
		}
	}
	ip := h.ClientIP(r)
	if o := h.guard.Decide(r.Context(), h.loginChecks(r, name)); !o.Allowed {
		h.audit.LogOnly(r.Context(), Event{Action: ActionLoginLimited, User: clip(name), IP: ip, Detail: "http basic"})
		o.Refuse(w)
		return User{}, false
	}
	a, ok, err := h.verify(r.Context(), name, pw)
	if err != nil {
		h.log.Warn("login: "+err.Error(), "ip", ip)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "too many logins at once; try again in a few seconds")
		return User{}, false
	}
	if !ok {
		h.audit.Audit(r.Context(), Event{Action: ActionLoginFailed, User: clip(name), IP: ip, Detail: "http basic"})
		w.Header().Set("WWW-Authenticate", `Basic realm="cantina-ops console", charset="UTF-8"`)
		writeError(w, http.StatusUnauthorized, "wrong user name or password")
		return User{}, false
	}
	h.basic.put(name, pw, a.name, now)
	h.audit.Audit(r.Context(), Event{Action: ActionLogin, User: a.name, IP: ip, Detail: "http basic"})
	return User{Name: a.name, Role: a.role}, true
}

// loginChecks are RATE_LIMIT_LOGIN's budgets an attempt spends: its client
// address's and its user name's (case-folded, known or not).
func (h *Handler) loginChecks(r *http.Request, name string) []ratelimit.Check {
	p := h.cfg.RateLimit.Login
	ip := ratelimit.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), h.cfg.RateLimit.TrustedProxies)
	checks := []ratelimit.Check{{Policy: p, Subject: ratelimit.Subject(ip)}}
	if name != "" {
		checks = append(checks, ratelimit.Check{Policy: p, Subject: "user:" + strings.ToLower(name)})
	}
	return checks
}

// maxVerifying bounds the argon2id verifications running at once: each
// takes its hash's memory (19 MiB by default), so a flood of logins from
// many addresses (each within its own budget) cannot exhaust the web
// process's memory, which in gateway mode is the POS's front door. The
// others wait their turn up to verifyWait, then get 503.
const (
	maxVerifying = 4
	verifyWait   = 5 * time.Second
)

// errBusy: maxVerifying verifications ran for all of verifyWait.
var errBusy = errors.New("too many logins at once")

// verify returns the account name and pw log in to. An unknown name costs
// one argon2id verification too, with the costliest parameters of the
// known ones.
func (h *Handler) verify(ctx context.Context, name, pw string) (account, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, verifyWait)
	defer cancel()
	select {
	case h.verifying <- struct{}{}:
		defer func() { <-h.verifying }()
	case <-ctx.Done():
		return account{}, false, errBusy
	}
	a, ok := h.accounts[name]
	if !ok {
		h.dummy.Verify(pw)
		return account{}, false, nil
	}
	if !a.hash.Verify(pw) {
		return account{}, false, nil
	}
	return a, true, nil
}

// cookie is the session cookie with value; maxAge -1 deletes it.
func (h *Handler) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: CookieName, Value: value, Path: Root, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.overHTTPS(r),
	}
}

// overHTTPS reports whether r reached us over https: PUBLIC_URL is https,
// the connection is TLS, or a trusted proxy says so (X-Forwarded-Proto).
func (h *Handler) overHTTPS(r *http.Request) bool {
	if h.secure || r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https") && h.cfg.RateLimit.TrustedProxies.TrustsPeer(r.RemoteAddr)
}

// safeNext is where to go after the login: a path of the console, else
// the console's first page. Nothing else (another site, //host) passes.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		!strings.HasPrefix(u.Path, Root+"/") || strings.Contains(u.Path, "..") {
		return Root + "/"
	}
	return next
}

// clip shortens a user name as typed for the audit.
func clip(s string) string {
	if len(s) > maxNameLen {
		return s[:maxNameLen] + "…"
	}
	return s
}

// readAll reads r's body up to limit bytes and puts it back for the next
// handler.
func readAll(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(string(b)), r.Body))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errors.New("request body too large to audit")
	}
	return b, nil
}

// basicTTL is how long passed HTTP Basic credentials are remembered.
const basicTTL = time.Minute

// basicMax bounds the remembered credentials; past it they are forgotten.
const basicMax = 1024

// basicCache remembers HTTP Basic credentials that passed, by an HMAC
// under a key of this process (never the password itself).
type basicCache struct {
	key []byte
	mu  sync.Mutex
	m   map[[sha256.Size]byte]basicEntry
}

type basicEntry struct {
	user  string
	until time.Time
}

func newBasicCache() (*basicCache, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("console: read random key: %w", err)
	}
	return &basicCache{key: key, m: map[[sha256.Size]byte]basicEntry{}}, nil
}

func (c *basicCache) sum(name, pw string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(pw))
	var out [sha256.Size]byte
	copy(out[:], m.Sum(nil))
	return out
}

func (c *basicCache) get(name, pw string, now time.Time) (string, bool) {
	k := c.sum(name, pw)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.until) {
		delete(c.m, k)
		return "", false
	}
	return e.user, true
}

func (c *basicCache) put(name, pw, user string, now time.Time) {
	k := c.sum(name, pw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= basicMax {
		clear(c.m)
	}
	c.m[k] = basicEntry{user: user, until: now.Add(basicTTL)}
}
