package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/ratelimit"
)

// The gateway (POS_UPSTREAM_URL): every request that is not for one of our
// routes is rate limited (limits.pos) and reverse-proxied to the POS.
// Bodies stream both ways. The POS's answers, cookies and redirects pass
// unchanged but for the rate limit fields (MergeHeaders); our security
// headers are not added to them.
//
// The POS sees the client's Host, and X-Forwarded-For and -Proto: from a
// trusted proxy (TRUSTED_PROXIES) the values it sent, with its address
// appended to X-Forwarded-For; from anyone else only what we saw (the
// peer's address, our scheme), so a client cannot make the POS believe a
// forged address. X-Forwarded-Host is always the Host we were asked for
// (a proxy in front passes the client's Host on; Heroku's router sets no
// X-Forwarded-Host, so a client's own would pass as trusted). Forwarded
// (RFC 7239) is never passed on: ReverseProxy drops it, and nothing of
// ours sets it. Cantina-Ops-Charged, by which the POS's own decorator
// knows which policies the gateway already charged, is always ours, and
// Cantina-Ops-Client is the client address we decided by. Request
// headers whose names hold an underscore are dropped, as nginx does: WSGI
// servers turn "X_Forwarded_For" into the same HTTP_X_FORWARDED_FOR as
// "X-Forwarded-For", which would let a client smuggle in any of the
// above.
type gateway struct {
	proxy  *httputil.ReverseProxy
	limits *limits
	log    *slog.Logger
}

// Upstream timeouts: connecting to the POS, and waiting for its response's
// headers once the request is sent. A body then streams as long as the
// server's write timeout allows.
const (
	UpstreamDialTimeout   = 5 * time.Second
	UpstreamHeaderTimeout = 30 * time.Second
)

// proxiedKey carries a proxied request's limits decision (proxied) from
// ServeHTTP to the proxy's hooks.
type proxiedKey struct{}

// proxied is what the gateway decided for a request: the outcome, and the
// client address it counted by (sent on as Cantina-Ops-Client).
type proxied struct {
	outcome ratelimit.Outcome
	client  string
}

// proxiedOf is r's decision, false outside the gateway's requests.
func proxiedOf(r *http.Request) (proxied, bool) {
	p, ok := r.Context().Value(proxiedKey{}).(proxied)
	return p, ok
}

func newGateway(upstream *url.URL, l *limits, log *slog.Logger) *gateway {
	g := &gateway{limits: l, log: log}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:        g.rewrite(upstream),
		Transport:      upstreamTransport(),
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.upstreamError,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BufferPool:     bufferPool{},
	}
	return g
}

// bufferPool reuses the proxy's copy buffers (32 KiB, as it would allocate
// for every response otherwise).
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }

func upstreamTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // the POS is reached directly, whatever HTTP_PROXY says
		DialContext:           (&net.Dialer{Timeout: UpstreamDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   UpstreamDialTimeout,
		ResponseHeaderTimeout: UpstreamHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		// The POS's answer passes as it is: no gzip asked for on the
		// client's behalf (and undone here) when the client did not ask.
		DisableCompression: true,
	}
}

// ServeHTTP limits a request to the POS and proxies it. The server's
// write timeout (meant for our own short answers) is lifted: the POS's
// answer may stream for longer, and a POS that does not answer gets its
// 504 page after UpstreamHeaderTimeout.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client := g.limits.clientSubject(r)
	o := g.limits.guard.Decide(r.Context(), g.limits.pos(r, client))
	if !o.Allowed {
		o.Refuse(w)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), proxiedKey{}, proxied{o, client})))
}

func (g *gateway) rewrite(upstream *url.URL) func(*httputil.ProxyRequest) {
	trust := g.limits.cfg.TrustedProxies
	return func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		pr.Out.Host = pr.In.Host
		in, out := pr.In.Header, pr.Out.Header
		trusted := trust.TrustsPeer(pr.In.RemoteAddr)
		if trusted {
			// Rewrite has removed them from Out; a trusted proxy's are kept.
			if v := in.Values("X-Forwarded-For"); len(v) > 0 {
				out["X-Forwarded-For"] = v
			}
		}
		pr.SetXForwarded()
		if v := in.Get("X-Forwarded-Proto"); trusted && v != "" {
			out.Set("X-Forwarded-Proto", v)
		}
		for name := range out {
			if strings.Contains(name, "_") {
				delete(out, name)
			}
		}
		out.Del(ratelimit.ChargedHeader)
		out.Del(ratelimit.ClientHeader)
		if p, ok := proxiedOf(pr.In); ok {
			out.Set(ratelimit.ClientHeader, p.client)
			if len(p.outcome.Charged) > 0 {
				out.Set(ratelimit.ChargedHeader, ratelimit.FormatCharged(p.outcome.Charged))
			}
		}
	}
}

// modifyResponse adds the rate limit fields to the POS's answer, unless
// the POS's own limiter sent tighter ones.
func (g *gateway) modifyResponse(resp *http.Response) error {
	if p, ok := proxiedOf(resp.Request); ok {
		p.outcome.MergeHeaders(resp.Header)
	}
	return nil
}

// posDownPage is the short page a client gets while the POS does not
// answer, in both languages of the cafeteria.
var posDownPage = template.Must(template.New("pos-down").Parse(`<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Status}} · POS</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1>El punto de venta no responde</h1><p>Vuelva a intentarlo en unos segundos.</p>
<h1 lang="en">The point of sale is not answering</h1><p lang="en">Please try again in a few seconds.</p>
</body></html>
`))

// upstreamError answers when the POS could not be reached or did not
// answer in time: 504 for a timeout, 502 otherwise, with a short page. A
// client that went away gets nothing.
func (g *gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		return
	}
	code := http.StatusBadGateway
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		code = http.StatusGatewayTimeout
	}
	g.log.Warn("the POS did not answer", "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
	if p, ok := proxiedOf(r); ok {
		p.outcome.Headers(w.Header())
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(code)
	_ = posDownPage.Execute(w, struct{ Status int }{code})
}
