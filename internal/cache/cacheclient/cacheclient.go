// Package cacheclient enqueues cache:invalidate tasks and reads their state
// and result: the one client of the invalidation API and of `cantina-ops
// cache invalidate`. It validates every request before anything is
// enqueued, and coalesces bursts (see Enqueue).
package cacheclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// Client enqueues invalidations on the queue Redis.
type Client struct {
	queue *asynq.Client
	insp  *asynq.Inspector
	rdb   redis.UniversalClient // the queue Redis: generation counters
	ks    cache.Keyspace
	// shared: the cache Redis is the queue Redis.
	shared bool
	limits tasks.Limits
}

// New returns the client of cfg's keyspace on the queue Redis rdb (shared,
// not closed by the client).
func New(cfg *config.Config, rdb redis.UniversalClient) *Client {
	return &Client{
		queue: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb), rdb: rdb,
		ks: cache.KeyspaceOf(cfg), shared: cache.SharedWithQueue(cfg), limits: tasks.LimitsOf(cfg),
	}
}

// Validate returns the *cache.RequestError of r, or nil.
func (c *Client) Validate(r cache.Request) error { return r.Validate(c.ks, c.shared) }

// genKeyPrefix names the generation counters of coalescing, one per
// normalized request, in the queue Redis.
const genKeyPrefix = "cantina:cache:invalidate:gen:"

// genTTL keeps a generation counter well past the retention of the tasks
// it named, so an ID is not reused while its task is still kept.
const genTTL = 7 * 24 * time.Hour

// maxGenerations bounds Enqueue's search for a free task ID (a hang guard:
// each try moves past one task that exists).
const maxGenerations = 100

// advanceGen moves a request's generation on from ARGV[1], unless another
// caller did already, and returns the current one.
var advanceGen = redis.NewScript(`
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
if g == tonumber(ARGV[1]) then g = redis.call('INCR', KEYS[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return g`)

// Enqueue validates r and enqueues its cache:invalidate task, returning
// the task's ID. Nothing is enqueued when r is invalid (a
// *cache.RequestError).
//
// Coalescing: the task ID is "cache:invalidate:<hash of the normalized
// request>:<generation>". While a task for the same selectors is still
// pending (not started), enqueueing again conflicts with its ID and
// returns it with coalesced=true: it has not started, so it will delete
// whatever is stale now too. A task that is running or done (or waiting for
// a retry) never absorbs a new request — it may have scanned past the
// entries that just went stale — so the generation moves on and a new task
// is enqueued. No request is ever lost: each either enqueues a task or
// joins one that has not started yet.
func (c *Client) Enqueue(ctx context.Context, r cache.Request) (id string, coalesced bool, err error) {
	if err := c.Validate(r); err != nil {
		return "", false, err
	}
	payload := tasks.CacheInvalidateOf(r.Normalize())
	b, err := json.Marshal(payload)
	if err != nil {
		return "", false, fmt.Errorf("enqueue cache invalidation: %w", err)
	}
	sum := sha256.Sum256(b)
	hash := hex.EncodeToString(sum[:16])
	genKey := genKeyPrefix + hash
	gen, err := c.rdb.Get(ctx, genKey).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", false, fmt.Errorf("enqueue cache invalidation: read its generation: %w", err)
	}
	for range maxGenerations {
		id = TaskID(hash, gen)
		task, err := tasks.New(payload, c.limits, asynq.TaskID(id))
		if err != nil {
			return "", false, err
		}
		_, err = c.queue.EnqueueContext(ctx, task)
		if err == nil {
			return id, false, nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return "", false, fmt.Errorf("enqueue cache invalidation: %w", err)
		}
		info, err := c.insp.GetTaskInfo(tasks.QueueCache, id)
		switch {
		case err == nil && info.State == asynq.TaskStatePending:
			return id, true, nil
		case err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound):
			return "", false, fmt.Errorf("enqueue cache invalidation: look up task %s: %w", id, err)
		case err != nil:
			continue // deleted since the conflict: the ID is free again
		}
		gen, err = advanceGen.Run(ctx, c.rdb, []string{genKey}, gen, genTTL.Milliseconds()).Int64()
		if err != nil {
			return "", false, fmt.Errorf("enqueue cache invalidation: advance its generation: %w", err)
		}
	}
	return "", false, fmt.Errorf("enqueue cache invalidation: %d tasks for the same selectors are kept already; delete finished cache:invalidate tasks in the console", maxGenerations)
}

// TaskID is the ID of generation gen of the request whose hash is hash.
func TaskID(hash string, gen int64) string {
	return tasks.TypeCacheInvalidate + ":" + hash + ":" + strconv.FormatInt(gen, 10)
}

// ErrNotFound: no cache:invalidate task has the ID (never enqueued, or
// deleted after its retention).
var ErrNotFound = errors.New("no such cache invalidation task")

// Status is a cache:invalidate task's state and, once completed, result.
type Status struct {
	TaskID string `json:"task_id"`
	// State is asynq's: pending, active, retry, archived, completed, …
	State  string          `json:"state"`
	Result json.RawMessage `json:"result,omitempty"` // a cache.Result
	// Error is the last attempt's error.
	Error       string     `json:"error,omitempty"`
	Retried     int        `json:"retried"`
	MaxRetry    int        `json:"max_retry"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// Done reports whether the task finished: completed, or archived (failed
// for good).
func (s Status) Done() bool {
	return s.State == asynq.TaskStateCompleted.String() || s.State == asynq.TaskStateArchived.String()
}

// Status looks the task up in every queue.
func (c *Client) Status(ctx context.Context, id string) (Status, error) {
	// The cache queue first: where cache:invalidate tasks are.
	queues := append([]string{tasks.QueueCache}, slices.DeleteFunc(tasks.AllQueues(), func(q string) bool { return q == tasks.QueueCache })...)
	for _, q := range queues {
		if err := ctx.Err(); err != nil {
			return Status{}, err
		}
		info, err := c.insp.GetTaskInfo(q, id)
		if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			return Status{}, fmt.Errorf("look up task %s: %w", id, err)
		}
		if info.Type != tasks.TypeCacheInvalidate {
			return Status{}, ErrNotFound
		}
		s := Status{TaskID: id, State: info.State.String(), Error: info.LastErr, Retried: info.Retried, MaxRetry: info.MaxRetry}
		if len(info.Result) > 0 {
			s.Result = info.Result
		}
		if !info.CompletedAt.IsZero() {
			t := info.CompletedAt.UTC()
			s.CompletedAt = &t
		}
		return s, nil
	}
	return Status{}, ErrNotFound
}

// pollInterval is how often Wait looks at the task: one Redis lookup
// (the cache queue's) each time.
const pollInterval = 5 * time.Millisecond

// Wait polls the task until it is done or d has passed (or ctx ends), and
// returns its last status.
func (c *Client) Wait(ctx context.Context, id string, d time.Duration) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last Status
	for {
		s, err := c.Status(ctx, id)
		switch {
		case err == nil:
			last = s
			if s.Done() {
				return s, nil
			}
		case ctx.Err() != nil:
			return last, nil
		default:
			return last, err
		}
		select {
		case <-ctx.Done():
			return last, nil
		case <-tick.C:
		}
	}
}
