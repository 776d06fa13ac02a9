package scheduler

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// lease is a leadership lease in Redis: a key holding the leader's instance
// ID with a TTL. Only the holder can renew or release it.
type lease struct {
	rdb redis.UniversalClient
	key string
	id  string
	ttl time.Duration
}

var (
	renewScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)
	releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)
)

// acquire takes the lease if nobody holds it.
func (l *lease) acquire(ctx context.Context) (bool, error) {
	return l.rdb.SetNX(ctx, l.key, l.id, l.ttl).Result()
}

// renew extends the lease; false means another instance holds it now.
func (l *lease) renew(ctx context.Context) (bool, error) {
	n, err := renewScript.Run(ctx, l.rdb, []string{l.key}, l.id, l.ttl.Milliseconds()).Int()
	return n == 1, err
}

// release gives the lease up so a standby takes over at once.
func (l *lease) release(ctx context.Context) error {
	return releaseScript.Run(ctx, l.rdb, []string{l.key}, l.id).Err()
}
