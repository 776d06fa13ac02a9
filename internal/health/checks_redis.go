package health

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisResponseTime pings a Redis server, in milliseconds; what names it
// in hints ("queue Redis", "cache Redis").
func (d Deps) redisResponseTime(key string, c redis.UniversalClient, what string) func(context.Context) Result {
	return func(ctx context.Context) Result {
		if c == nil {
			return notConfigured("the " + what)
		}
		start := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			return d.failed(key, "the "+what+" does not answer", err)
		}
		return responded(time.Since(start), "answered PING")
	}
}

// rateLimitRedis says whether the rate limits can decide (their state is
// in the cache Redis) and what they do while they cannot
// (RATE_LIMIT_FAIL_OPEN), as the observed value "fail-open" or
// "fail-closed": a Redis outage is a warning when requests then pass
// unlimited, a failure when they are all refused.
func (d Deps) rateLimitRedis(ctx context.Context) Result {
	mode, while, status := "fail-closed", "every rate-limited request is refused (503)", Fail
	if d.RateLimitFailOpen {
		mode, while, status = "fail-open", "requests pass without rate limits", Warn
	}
	res := Result{ObservedValue: mode, Threshold: "while the cache Redis is down, " + while + " (RATE_LIMIT_FAIL_OPEN)"}
	if d.Cache == nil {
		return notConfigured("the cache Redis")
	}
	if err := d.Cache.Ping(ctx).Err(); err != nil {
		if d.Logger != nil {
			d.Logger.Warn("health check failed", "check", KeyRateLimitRedis, "err", err)
		}
		res.Status = status
		res.Output = "the cache Redis, where rate limits keep their state, does not answer (" + describe(err, d.timeout()) + "): " + while
		return res
	}
	res.Status, res.Output = Pass, "rate limits are enforced"
	return res
}

// queueMemory compares the queue Redis's used_memory with its maxmemory
// and checks its eviction policy (see queueMemoryStatus).
func (d Deps) queueMemory(ctx context.Context) Result {
	if d.Queue == nil {
		return notConfigured("the queue Redis")
	}
	info, err := redisInfo(ctx, d.Queue, "memory")
	if err != nil {
		return d.failed(KeyQueueMemory, "cannot read the queue Redis's memory", err)
	}
	used, err1 := info.int("used_memory")
	maxmemory, err2 := info.int("maxmemory")
	policy := info["maxmemory_policy"]
	if errors.Join(err1, err2) != nil || policy == "" {
		return Result{Status: Fail, Output: "the queue Redis's INFO memory lacks used_memory, maxmemory or maxmemory_policy"}
	}
	st, out := queueMemoryStatus(used, maxmemory, policy)
	res := Result{Status: st, Output: out, Threshold: percentThreshold(QueueMemoryWarn, QueueMemoryFail) + " of maxmemory; warn unless maxmemory-policy is noeviction"}
	if maxmemory > 0 {
		res.ObservedValue, res.ObservedUnit = percent(float64(used), float64(maxmemory)), "%"
	} else {
		res.ObservedValue, res.ObservedUnit = used, "bytes"
	}
	return res
}

// cacheHitRatio is keyspace_hits / (hits + misses) of the cache Redis,
// in %, since it started.
func (d Deps) cacheHitRatio(ctx context.Context) Result {
	if d.Cache == nil {
		return notConfigured("the cache Redis")
	}
	info, err := redisInfo(ctx, d.Cache, "")
	if err != nil {
		return d.failed(KeyCacheHitRatio, "cannot read the cache Redis's stats", err)
	}
	hits, err1 := info.int("keyspace_hits")
	misses, err2 := info.int("keyspace_misses")
	if errors.Join(err1, err2) != nil {
		return Result{Status: Fail, Output: "the cache Redis's INFO lacks keyspace_hits or keyspace_misses"}
	}
	st, ratio, out := hitRatioStatus(hits, misses, d.sharedRedis(ctx, info))
	return Result{Status: st, ObservedValue: ratio, ObservedUnit: "%", Output: out,
		Threshold: "warn < " + strconv.Itoa(HitRatioWarn) + " % after " + strconv.Itoa(HitRatioMinLookups) + " lookups"}
}

// cacheEvictions is the cache Redis's evicted_keys since it started.
func (d Deps) cacheEvictions(ctx context.Context) Result {
	if d.Cache == nil {
		return notConfigured("the cache Redis")
	}
	info, err := redisInfo(ctx, d.Cache, "")
	if err != nil {
		return d.failed(KeyCacheEvictions, "cannot read the cache Redis's stats", err)
	}
	evicted, err := info.int("evicted_keys")
	if err != nil {
		return Result{Status: Fail, Output: "the cache Redis's INFO lacks evicted_keys"}
	}
	st, out := evictionStatus(evicted, d.sharedRedis(ctx, info))
	return Result{Status: st, ObservedValue: evicted, ObservedUnit: "keys", Output: out, Threshold: "warn > 0"}
}

// sharedRedis reports whether the cache Redis, whose INFO is cache, is
// the queue Redis's server too (same run_id), whatever the databases.
func (d Deps) sharedRedis(ctx context.Context, cache info) bool {
	if d.Queue == nil || cache["run_id"] == "" {
		return false
	}
	q, err := redisInfo(ctx, d.Queue, "server")
	return err == nil && q["run_id"] == cache["run_id"]
}

// info is a Redis INFO reply's fields.
type info map[string]string

// redisInfo runs INFO section ("" for the default sections) and parses it.
func redisInfo(ctx context.Context, c redis.UniversalClient, section string) (info, error) {
	var cmd *redis.StringCmd
	if section == "" {
		cmd = c.Info(ctx)
	} else {
		cmd = c.Info(ctx, section)
	}
	s, err := cmd.Result()
	if err != nil {
		return nil, err
	}
	return parseInfo(s), nil
}

// parseInfo reads INFO's "field:value" lines, skipping "# Section" headers
// and blank lines.
func parseInfo(s string) info {
	out := info{}
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// errNoField is an INFO field that is missing or not a number.
var errNoField = errors.New("INFO field missing or not a number")

// int is an integer field of the reply.
func (i info) int(name string) (int64, error) {
	n, err := strconv.ParseInt(i[name], 10, 64)
	if err != nil {
		return 0, errNoField
	}
	return n, nil
}
