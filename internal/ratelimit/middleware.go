package ratelimit

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Check is one policy to apply to a request, counted by Subject (a client
// address from Subject, a user from UserSubject, a token's name).
type Check struct {
	Policy  Policy
	Subject string
}

// Outcome is what Guard.Decide found for a request.
type Outcome struct {
	// Allowed: the request may go on. False when a policy refused it, or
	// when Redis could not decide and the guard fails closed.
	Allowed bool
	// Charged are the names of the policies that passed the request and
	// spent one of its subject's budget, in order.
	Charged []string
	// Tightest is the decision closest to its limit (the refusal when
	// refused) and its policy; Decided is false when no decision was made
	// (no checks, or Redis could not decide).
	Tightest Decision
	Policy   Policy
	Decided  bool
	// Unavailable: Redis could not decide (Err says why); Allowed then
	// says whether the guard fails open.
	Unavailable bool
	Err         error
}

// Guard applies policies to HTTP requests with the state in Redis.
type Guard struct {
	Limiter *Limiter
	// FailOpen: while Redis cannot decide, requests pass (true) or are
	// answered 503 (false): RATE_LIMIT_FAIL_OPEN.
	FailOpen bool
	// Timeout bounds the decisions of one request (DefaultGuardTimeout
	// when 0): a Redis that hangs must not hang the POS with it.
	Timeout time.Duration
	// Logger gets one warning per LogEvery while Redis cannot decide;
	// nil discards them.
	Logger *slog.Logger

	lastWarn atomic.Int64 // unix nanoseconds of the last outage warning
}

// DefaultGuardTimeout bounds a request's decisions when Guard.Timeout is 0.
// A decision takes well under a millisecond against a reachable Redis.
const DefaultGuardTimeout = 250 * time.Millisecond

// LogEvery is how often, at most, a guard warns that Redis cannot decide.
const LogEvery = 10 * time.Second

// Decide applies checks in order and stops at the first refusal: a
// request refused by one policy spends nothing of the later ones (it has
// spent the earlier ones: it did arrive). With no checks it allows.
func (g *Guard) Decide(ctx context.Context, checks []Check) Outcome {
	out := Outcome{Allowed: true}
	if len(checks) == 0 {
		return out
	}
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = DefaultGuardTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ds, err := g.Limiter.AllowAll(ctx, checks)
	for i, d := range ds {
		if !out.Decided || tighter(d, out.Tightest) {
			out.Tightest, out.Policy, out.Decided = d, checks[i].Policy, true
		}
		if !d.Allowed {
			out.Allowed = false
			return out
		}
		out.Charged = append(out.Charged, checks[i].Policy.Name)
	}
	if err != nil {
		g.warn(err)
		return Outcome{Allowed: g.FailOpen, Unavailable: true, Err: err, Charged: out.Charged}
	}
	return out
}

func (g *Guard) warn(err error) {
	if g.Logger == nil {
		return
	}
	now := time.Now().UnixNano()
	last := g.lastWarn.Load()
	if now-last < int64(LogEvery) || !g.lastWarn.CompareAndSwap(last, now) {
		return
	}
	mode := "failing closed: limited requests are refused with 503"
	if g.FailOpen {
		mode = "failing open: requests pass unlimited"
	}
	g.Logger.Warn("rate limiter cannot reach Redis, "+mode, "err", err)
}

// Headers sets o's rate limit fields on h (see Headers), when a decision
// was made.
func (o Outcome) Headers(h http.Header) {
	if o.Decided {
		Headers(h, o.Policy, o.Tightest)
	}
}

// Refuse answers a request that o did not allow: 429 with the headers and
// a problem+json body naming the violated policy, or 503 when Redis could
// not decide and the guard fails closed. Both are application/problem+json
// (RFC 9457).
func (o Outcome) Refuse(w http.ResponseWriter) {
	if o.Unavailable {
		w.Header().Set("Retry-After", strconv.Itoa(UnavailableRetryAfter))
		writeProblem(w, Problem{
			Type: "about:blank", Title: "Service Unavailable", Status: http.StatusServiceUnavailable,
			Detail: "rate limiting cannot reach Redis and fails closed",
		})
		return
	}
	o.Headers(w.Header())
	writeProblem(w, Problem{
		Type:     QuotaExceededType,
		Title:    "Request cannot be satisfied as assigned quota has been exceeded",
		Status:   http.StatusTooManyRequests,
		Detail:   "too many requests; retry in " + seconds(o.Tightest.RetryAfter) + " s",
		Violated: []string{o.Policy.Name},
	})
}

// UnavailableRetryAfter is the Retry-After, in seconds, of the 503 a guard
// that fails closed answers while Redis cannot decide.
const UnavailableRetryAfter = 5

// QuotaExceededType is the problem type of a 429
// (draft-ietf-httpapi-ratelimit-headers-11, section 6.1).
const QuotaExceededType = "https://iana.org/assignments/http-problem-types#quota-exceeded"

// Problem is an RFC 9457 problem document, with the rate limit draft's
// violated-policies member.
type Problem struct {
	Type     string   `json:"type"`
	Title    string   `json:"title"`
	Status   int      `json:"status"`
	Detail   string   `json:"detail,omitempty"`
	Violated []string `json:"violated-policies,omitempty"`
}

func writeProblem(w http.ResponseWriter, p Problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// ChargedHeader is the request header the gateway sends to the POS with
// the names of the policies it has charged for the request, as a
// structured-field list of strings ("ip", "user:POST/ventas/procesar/"),
// so that the Django decorator does not spend them again. The gateway
// removes any such header a client sent; Django believes it only from a
// trusted proxy.
const ChargedHeader = "Cantina-Ops-Charged"

// ClientHeader is the request header the gateway sends to the POS with
// the client's address as it decided by (Subject of ClientIP: an IPv4
// address or an IPv6 /64), so that the Django decorator counts the same
// client even when the gateway itself sits behind another proxy. Like
// ChargedHeader, the gateway always sets it and Django believes it only
// from a gateway it is told of.
const ClientHeader = "Cantina-Ops-Client"

// FormatCharged writes names as ChargedHeader's value. Policy names hold
// no quote or backslash (Policy.check), so quoting is plain.
func FormatCharged(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(n))
	}
	return b.String()
}

// rateLimitFields are the response fields Headers writes, but Retry-After.
var rateLimitFields = []string{"RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}

// MergeHeaders sets o's fields on a response that may carry another
// limiter's (the POS's own decorator behind the gateway): whichever is
// closer to its limit stays, judged by X-RateLimit-Remaining relative to
// X-RateLimit-Limit. Fields it cannot read are replaced by o's. The
// response's Retry-After is the POS's own (a 503 it sent, its 429) and
// stays as it is: o allowed the request.
func (o Outcome) MergeHeaders(h http.Header) {
	if !o.Decided {
		return
	}
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err1 == nil && err2 == nil && limit > 0 &&
		!tighter(o.Tightest, Decision{Allowed: true, Remaining: remaining, Limit: limit}) {
		return
	}
	for _, f := range rateLimitFields {
		h.Del(f)
	}
	retry := h.Values("Retry-After")
	o.Headers(h)
	if len(retry) > 0 {
		h["Retry-After"] = retry
	}
}
