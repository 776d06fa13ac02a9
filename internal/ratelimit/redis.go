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
// microseconds, with Redis TIME as the clock, for one or several policies
// of one request: it decides KEYS[1], then KEYS[2] and so on, and stops at
// the first refusal, so a refused request spends nothing of the policies
// after it. Lua numbers are doubles: exact for integers below 2^53 µs (year
// 2255). A script that reads TIME and then writes needs effects
// replication, the default since Redis 5.
//
//	KEYS[i] a key; ARGV[2i-1] its interval T µs; ARGV[2i] its capacity Burst*T µs
//	returns, per decided key, {allowed 0|1, remaining, retry_after µs,
//	reset_after µs}, flattened, then now µs
//
// With one key, as the Django decorator calls it, that is {allowed,
// remaining, retry_after, reset_after, now}. Several keys in one call must
// share a Redis Cluster slot; the Limiter sends one key per call to a
// cluster.
//
// contrib/django/cantina_ops.py runs this very text (a test compares them),
// so that the POS's decorator and the gateway share every budget.
const Script = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local n = 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local capacity = tonumber(ARGV[2 * i])
  local stored = tonumber(redis.call('GET', KEYS[i])) or now
  local tat = math.max(stored, now)
  tat = math.min(tat, now + capacity)
  local new_tat = tat + interval
  local allow_at = new_tat - capacity
  if now < allow_at then
    if tat < stored then
      redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
    end
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = 0, 0, allow_at - now, tat - now
    n = n + 4
    break
  end
  redis.call('SET', KEYS[i], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = 1, math.floor((now - allow_at) / interval), 0, new_tat - now
  n = n + 4
end
out[n + 1] = now
return out
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
	ds, _, err := l.allowAll(ctx, []Check{{Policy: p, Subject: subject}})
	if err != nil {
		return Decision{}, err
	}
	return ds[0], nil
}

// AllowAll decides checks in order and stops at the first refusal, as
// Allow one after the other would, in one round trip to a single Redis
// server (one per check to a Redis Cluster, whose keys of one request lie
// in different slots). It returns the decisions made: all of them when
// every check passed, else up to and including the refusal. An error
// means Redis could not decide; decisions made before it still count.
func (l *Limiter) AllowAll(ctx context.Context, checks []Check) ([]Decision, error) {
	if _, single := l.rdb.(*redis.Client); single || len(checks) < 2 {
		ds, _, err := l.allowAll(ctx, checks)
		return ds, err
	}
	ds := make([]Decision, 0, len(checks))
	for _, c := range checks {
		d, _, err := l.allowAll(ctx, []Check{c})
		if err != nil {
			return ds, err
		}
		ds = append(ds, d[0])
		if !d[0].Allowed {
			break
		}
	}
	return ds, nil
}

// allowAll runs the script once on checks, and also returns the Redis
// clock it read, for tests that replay the same timeline through Decide.
func (l *Limiter) allowAll(ctx context.Context, checks []Check) ([]Decision, time.Time, error) {
	if len(checks) == 0 {
		return nil, time.Time{}, nil
	}
	keys := make([]string, len(checks))
	args := make([]any, 0, 2*len(checks))
	for i, c := range checks {
		if err := c.Policy.check(); err != nil {
			return nil, time.Time{}, fmt.Errorf("rate limit %s: invalid policy: %w", c.Policy.Name, err)
		}
		keys[i] = Key(c.Policy, c.Subject)
		args = append(args, c.Policy.interval(), c.Policy.capacity())
	}
	res, err := script.Run(ctx, l.rdb, keys, args...).Int64Slice()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("rate limit %s: run script: %w", checks[0].Policy.Name, err)
	}
	n := (len(res) - 1) / 4
	if len(res) != 4*n+1 || n < 1 || n > len(checks) {
		return nil, time.Time{}, fmt.Errorf("rate limit %s: script returned %d values for %d keys", checks[0].Policy.Name, len(res), len(checks))
	}
	ds := make([]Decision, n)
	for i := range ds {
		r := res[4*i:]
		ds[i] = Decision{
			Allowed:    r[0] == 1,
			Remaining:  int(r[1]),
			RetryAfter: micros(r[2]),
			ResetAfter: micros(r[3]),
			Limit:      checks[i].Policy.Burst,
		}
	}
	return ds, time.UnixMicro(res[len(res)-1]), nil
}
