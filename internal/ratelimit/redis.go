package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// KeyPrefix starts every key this package writes:
//
//	cantina:rl:{<policy name>:<subject hash>}
//
// where the subject hash is the first 16 bytes of SHA-256(subject), in hex.
// The braces make the part inside them the Redis Cluster hash tag, so each
// key is a single-slot operation and subjects spread over the cluster. The
// value is the TAT in microseconds since the Unix epoch, and the key expires
// when the subject's budget is full again.
const KeyPrefix = "cantina:rl:"

// Key is the Redis key of subject under policy p (see KeyPrefix).
func Key(p Policy, subject string) string {
	return KeyPrefix + "{" + p.Name + ":" + hash32(subject) + "}"
}

// Script is Decide's twin (decide in decide.go, line for line), in integer
// microseconds, with Redis TIME as the clock. Lua numbers are doubles:
// exact for integers below 2^53 µs (year 2255). A script that reads TIME and
// then writes needs effects replication, the default since Redis 5.
//
//	KEYS[1] the key; ARGV[1] interval T µs; ARGV[2] capacity Burst*T µs
//	returns {allowed 0|1, remaining, retry_after µs, reset_after µs, now µs}
//
// contrib/django/cantina_ops.py runs this very text (a test compares them),
// so that the POS's decorator and the gateway share every budget.
const Script = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local stored = tonumber(redis.call('GET', KEYS[1])) or now
local tat = math.max(stored, now)
tat = math.min(tat, now + capacity)
local new_tat = tat + interval
local allow_at = new_tat - capacity
if now < allow_at then
  if tat < stored then
    redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
  end
  return {0, 0, allow_at - now, tat - now, now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now, now}
`

var script = redis.NewScript(Script)

// Limiter decides against Redis, so that every process using the same
// Redis shares each subject's budget.
type Limiter struct {
	rdb redis.UniversalClient
}

// NewLimiter returns a Limiter keeping its state in rdb.
func NewLimiter(rdb redis.UniversalClient) *Limiter { return &Limiter{rdb: rdb} }

// Allow spends one request of subject's budget under p, if there is one.
// An error means Redis could not decide (down, timeout): the caller chooses
// to fail open or closed.
func (l *Limiter) Allow(ctx context.Context, p Policy, subject string) (Decision, error) {
	d, _, err := l.allow(ctx, p, subject)
	return d, err
}

// allow is Allow that also returns the Redis clock the script read, for
// tests that replay the same timeline through Decide.
func (l *Limiter) allow(ctx context.Context, p Policy, subject string) (Decision, time.Time, error) {
	if err := p.check(); err != nil {
		return Decision{}, time.Time{}, fmt.Errorf("rate limit %s: invalid policy: %w", p.Name, err)
	}
	res, err := script.Run(ctx, l.rdb, []string{Key(p, subject)}, p.interval(), p.capacity()).Int64Slice()
	if err != nil {
		return Decision{}, time.Time{}, fmt.Errorf("rate limit %s: run script: %w", p.Name, err)
	}
	if len(res) != 5 {
		return Decision{}, time.Time{}, fmt.Errorf("rate limit %s: script returned %d values, want 5", p.Name, len(res))
	}
	return Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: micros(res[2]),
		ResetAfter: micros(res[3]),
		Limit:      p.Burst,
	}, time.UnixMicro(res[4]), nil
}
