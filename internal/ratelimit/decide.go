package ratelimit

import "time"

// Decision is the outcome of one request against one policy.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests would pass right now.
	Remaining int
	// RetryAfter is how long a refused request must wait until one would
	// pass; 0 when Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the budget is full again (Remaining ==
	// Limit) if nothing more comes.
	ResetAfter time.Duration
	// Limit is the capacity, the policy's Burst: Remaining when full.
	Limit int
}

// Decide is GCRA (see the package doc) as a pure function: given the
// subject's stored theoretical arrival time tat (the zero Time when there is
// none) and the current time, it returns the decision and the TAT to store.
// A refused request returns tat unchanged (but clamped, below). Times are used at microsecond
// resolution, as in the Redis script, so both give the same answers.
//
// If the clock went backwards (tat further ahead of now than a whole burst,
// which no decision can produce), the TAT is clamped to now + Burst*T, and
// that clamped TAT is returned (and stored) even when refused: a subject is
// at worst treated as having spent its whole burst, never locked out for the
// size of the clock jump.
func Decide(p Policy, tat, now time.Time) (Decision, time.Time) {
	d, newTAT := decide(p.interval(), p.capacity(), tat.UnixMicro(), now.UnixMicro())
	d.Limit = p.Burst
	if !d.Allowed && newTAT == max(tat.UnixMicro(), now.UnixMicro()) {
		return d, tat
	}
	return d, time.UnixMicro(newTAT)
}

// decide is the integer core shared by Decide and mirrored by the Lua
// script: interval and capacity in µs, tat and now in µs since the epoch.
// It returns the TAT to store: the new one when allowed, the (clamped) old
// one when refused.
func decide(interval, capacity, tat, now int64) (Decision, int64) {
	tat = max(tat, now)
	tat = min(tat, now+capacity)
	newTAT := tat + interval
	allowAt := newTAT - capacity
	if now < allowAt {
		return Decision{RetryAfter: micros(allowAt - now), ResetAfter: micros(tat - now)}, tat
	}
	return Decision{
		Allowed:    true,
		Remaining:  int((now - allowAt) / interval),
		ResetAfter: micros(newTAT - now),
	}, newTAT
}

func micros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
