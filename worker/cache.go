package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// cacheInvalidator runs cache:invalidate tasks on the POS's cache Redis.
type cacheInvalidator struct {
	rdb    redis.UniversalClient
	ks     cache.Keyspace
	shared bool // the cache Redis is the queue Redis
	log    *slog.Logger
}

// run deletes what the task selects; its result (deleted per selector,
// duration) becomes the task's result. A request that is not valid (one
// enqueued by hand, or before a CACHE_KEY_PREFIX change) can never succeed
// and is not retried.
func (c *cacheInvalidator) run(ctx context.Context, a tasks.CacheInvalidate) (cache.Result, error) {
	r := a.Request()
	if err := r.Validate(c.ks, c.shared); err != nil {
		return cache.Result{}, fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	res, err := cache.Invalidate(ctx, c.rdb, c.ks, r, cache.Options{SharedWithQueue: c.shared})
	if err != nil {
		return res, fmt.Errorf("invalidate the POS cache: %w", err)
	}
	id, _ := asynq.GetTaskID(ctx)
	c.log.Info("cache invalidated", "task_id", id, "selectors", len(res.Selectors), "deleted", res.Deleted, "duration_ms", res.DurationMS)
	return res, nil
}
