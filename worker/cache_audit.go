package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// CacheAudit runs cache:audit, and `cache stats` calls Run too: it samples
// the POS's cache keyspace (cache.Audit) and returns the report as the
// task's result. Keys without a TTL or over CACHE_TTLS are findings, not a
// failure: they are logged as a warning and the task completes.
type CacheAudit struct {
	Redis   redis.UniversalClient // the POS's cache Redis
	Options cache.AuditOptions
	Log     *slog.Logger
}

// NewCacheAudit audits rdb with the keyspace and policy of cfg.
func NewCacheAudit(cfg *config.Config, rdb redis.UniversalClient, log *slog.Logger) *CacheAudit {
	return &CacheAudit{Redis: rdb, Log: log, Options: cache.AuditOptions{Keyspace: cache.KeyspaceOf(cfg), Policy: cfg.CacheTTLs}}
}

// Run implements the cache:audit body.
func (c *CacheAudit) Run(ctx context.Context, _ tasks.CacheAudit) (cache.AuditReport, error) {
	rep, err := cache.Audit(ctx, c.Redis, c.Options)
	if err != nil {
		return rep, fmt.Errorf("%w; is the cache Redis (CACHE_REDIS_URL) reachable?", err)
	}
	attrs := []any{"pattern", rep.Pattern, "keys_sampled", rep.Sampled, "keys_estimated", rep.Estimated,
		"kinds", len(rep.Kinds), "no_ttl", rep.NoTTL, "over_policy", rep.OverPolicy, "evicted_keys", rep.Server.EvictedKeys}
	if f := rep.Findings(); f != "" {
		c.Log.Warn("cache audit: keys without a TTL or over CACHE_TTLS fill the cache Redis until it evicts (set a timeout on every cache.set, or fix CACHE_TTLS)",
			append(attrs, "findings", f)...)
		return rep, nil
	}
	c.Log.Info("cache audit done", attrs...)
	return rep, nil
}
