package tasks

import (
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/cache"
)

// CacheInvalidate is the payload of a cache:invalidate task: the POS cache
// entries to delete (internal/cache.Request). It is enqueued through
// cacheclient.Enqueue, which validates it and coalesces bursts.
type CacheInvalidate struct {
	Keys     []string `json:"keys,omitempty"`
	Patterns []string `json:"patterns,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Raw      bool     `json:"raw,omitempty"`
}

// CacheInvalidateOf is the payload of request r.
func CacheInvalidateOf(r cache.Request) CacheInvalidate {
	return CacheInvalidate{Keys: r.Keys, Patterns: r.Patterns, Tags: r.Tags, Raw: r.Raw}
}

// Request is the invalidation request the payload carries.
func (c CacheInvalidate) Request() cache.Request {
	return cache.Request{Keys: c.Keys, Patterns: c.Patterns, Tags: c.Tags, Raw: c.Raw}
}

// CacheInvalidateRetention keeps a finished invalidation (and its result)
// for a day: the POS and operators read it through GET /api/v1/tasks/{id}
// and the console.
const CacheInvalidateRetention = 24 * time.Hour

// TaskType implements Args.
func (CacheInvalidate) TaskType() string { return TypeCacheInvalidate }

// InsertOpts implements Args. The POS waits for stale entries to go: the
// default queue, a few quick retries (deleting is idempotent), and five
// minutes per attempt, enough to SCAN a cache of millions of keys.
func (CacheInvalidate) InsertOpts(Limits) []asynq.Option {
	return []asynq.Option{
		asynq.Queue(QueueCache),
		asynq.MaxRetry(5),
		asynq.Timeout(5 * time.Minute),
		asynq.Retention(CacheInvalidateRetention),
	}
}
