// Package ratelimit decides whether a request may pass, per policy and per
// subject (a client IP, a POS user, an API token), with the state in Redis so
// that every web replica and the POS's Django decorator share one budget.
//
// # Algorithm: GCRA
//
// The Generic Cell Rate Algorithm keeps, per (policy, subject), one number:
// the theoretical arrival time (TAT), the instant at which the subject's
// bucket would be full again if nothing more came. A policy of Limit requests
// per Period with a burst of Burst gives an emission interval T = Period/Limit
// and a capacity of Burst*T. A request at time now passes when
//
//	max(TAT, now) + T - Burst*T <= now
//
// and then moves TAT to max(TAT, now) + T. Refused requests change nothing.
//
// Why not the usual alternatives:
//
//   - Fixed windows (INCR a per-minute counter) let a client send 2×Limit
//     around a window boundary (the end of one minute and the start of the
//     next), and make every client that hit the limit come back at the same
//     instant, when the window rolls over.
//   - Sliding-window logs (a sorted set of request times) are exact but keep
//     one entry per request: memory and work grow with the limit (a 600/1m
//     policy holds up to 600 members per subject) and every decision trims
//     and counts a list.
//   - Sliding-window counters (two fixed windows, weighted) are O(1) but
//     approximate, and still need two keys or a hash per subject.
//
// GCRA is exact for "Limit per Period, at most Burst at once", smooth (a
// refused client may retry after exactly RetryAfter, one request's worth,
// not at the next window), and needs one key holding one integer per
// subject: O(1) memory and time per decision, no per-request lists, and one
// key per decision so that it is a single-slot operation in Redis Cluster.
//
// # Pure core and Redis twin
//
// [Decide] is the whole decision as a pure function of (policy, TAT, now),
// with table tests. The Lua script in redis.go is its twin, line for line,
// in integer microseconds, reading the clock with Redis TIME (so replicas
// with skewed clocks agree) and writing the new TAT with a TTL equal to the
// time until the bucket is full again: an idle subject leaves no key behind.
// [Policy.interval] and [Policy.capacity] compute the two constants in Go and
// pass them to the script, so the arithmetic that could round differently is
// done once.
//
// # Keys
//
// One key per (policy, subject): see [Key]. The subject is hashed, so no IP
// address, user or token appears in Redis in clear, and the whole suffix is
// a Redis Cluster hash tag.
//
// # Headers
//
// [Headers] writes the fields of draft-ietf-httpapi-ratelimit-headers-11
// (RateLimit-Policy, RateLimit), the older X-RateLimit-* trio and, on
// refusal, Retry-After.
package ratelimit
