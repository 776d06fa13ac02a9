package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// Headers sets the rate limit fields of a response decided by d under p:
//
//	RateLimit-Policy: "<name>";q=<Limit>;w=<Period in s>
//	RateLimit: "<name>";r=<Remaining>;t=<ResetAfter in s>
//	X-RateLimit-Limit: <Burst>          (the capacity)
//	X-RateLimit-Remaining: <Remaining>
//	X-RateLimit-Reset: <ResetAfter in s> (seconds until the budget is full
//	                                      again, not a timestamp)
//	Retry-After: <RetryAfter in s>      (only when refused)
//
// The first two follow draft-ietf-httpapi-ratelimit-headers-11; the
// X-RateLimit-* trio is for older clients. Seconds are rounded up, so a
// client that waits as told is never early. A response limited by several
// policies should carry the one closest to its limit (the caller picks it,
// see Tightest).
func Headers(h http.Header, p Policy, d Decision) {
	name := strconv.Quote(p.Name)
	h.Set("RateLimit-Policy", name+";q="+strconv.Itoa(p.Limit)+";w="+seconds(p.Period))
	h.Set("RateLimit", name+";r="+strconv.Itoa(d.Remaining)+";t="+seconds(d.ResetAfter))
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", seconds(d.ResetAfter))
	if d.Allowed {
		h.Del("Retry-After")
	} else {
		h.Set("Retry-After", seconds(d.RetryAfter))
	}
}

// Tightest returns the index of the decision closest to its limit: a refused
// one first (the longest RetryAfter), else the fewest Remaining relative to
// Limit. It returns -1 for none.
func Tightest(ds []Decision) int {
	best := -1
	for i, d := range ds {
		if best < 0 || tighter(d, ds[best]) {
			best = i
		}
	}
	return best
}

func tighter(a, b Decision) bool {
	if a.Allowed != b.Allowed {
		return !a.Allowed
	}
	if !a.Allowed {
		return a.RetryAfter > b.RetryAfter
	}
	// a.Remaining/a.Limit < b.Remaining/b.Limit, without division.
	return a.Remaining*b.Limit < b.Remaining*a.Limit
}

// seconds is d in whole seconds, rounded up.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
