package health

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// The check keys (component:measurement) of the standard round. They are
// part of the external contract: /health/, the metrics and the alerts use
// them.
const (
	KeyDatabaseResponseTime = "database:responseTime"
	KeyDatabaseConnections  = "database:connections"
	KeyQueueResponseTime    = "queue:responseTime"
	KeyQueueMemory          = "queue:memory"
	KeyCacheResponseTime    = "cache:responseTime"
	KeyCacheHitRatio        = "cache:hitRatio"
	KeyCacheEvictions       = "cache:evictions"
	KeyDiskUtilization      = "disk:utilization"
	KeyMemoryUtilization    = "memory:utilization"
	KeyCPUUtilization       = "cpu:utilization"
	KeyBackupsAge           = "backups:age"
	KeyBackupsLastRun       = "backups:lastRun"
	KeyBackupsRestoreTime   = "backups:restoreTime"
	KeyQueuesLatency        = "queues:latency"
	KeyQueuesWorkers        = "queues:workers"
	KeySchedulerLeader      = "scheduler:leader"
	KeyRateLimitRedis       = "ratelimit:redis"
)

// Backups lists the backup storage; *backup.Manager satisfies it (its
// first destination), and AllDestinations lists every destination.
type Backups interface {
	List(ctx context.Context) (backup.Listing, error)
}

var _ Backups = (*backup.Manager)(nil)

// AllDestinations lists every destination of a backup.Manager in one
// listing (ListAll), each backup carrying its destination: set it as
// Deps.Backups with Deps.Destinations, and backups:age judges each
// destination's newest backup.
type AllDestinations struct{ *backup.Manager }

// List implements Backups.
func (a AllDestinations) List(ctx context.Context) (backup.Listing, error) {
	return a.ListAll(ctx)
}

// Deps is what the standard checks look at. Every field but Logger and Now
// is needed; a nil client makes its checks fail with "not configured".
type Deps struct {
	// DB is a pool on the POS database's server.
	DB *sql.DB
	// Connect, if set, is a pool on the same server that keeps no idle
	// connection (SetMaxIdleConns(0)): database:responseTime opens a new
	// connection on it each round, so it measures connect + SELECT 1 as a
	// new client of the POS would. Nil measures on DB (an idle pooled
	// connection when there is one).
	Connect *sql.DB
	// Queue is the queue Redis (REDIS_URL), Cache the POS's cache Redis
	// (CACHE_REDIS_URL; may be the same client).
	Queue, Cache redis.UniversalClient
	// Inspector reads asynq's queues on the queue Redis.
	Inspector *asynq.Inspector
	// Backups lists the backup storage.
	Backups Backups
	// Destinations are the names of BACKUP_STORAGE's destinations when
	// Backups lists them all (AllDestinations): backups:age then reports
	// the destination whose newest verified backup is the oldest, so that
	// an off-site copy that stopped arriving is seen.
	Destinations []string
	// BackupDir is BACKUP_DIR, whose filesystem disk:utilization measures.
	BackupDir string
	// Database is the POS database's name, whose backups backups:age reads.
	Database string
	// RateLimitFailOpen is RATE_LIMIT_FAIL_OPEN: what the rate limits,
	// whose state is in the cache Redis, do while it is down.
	RateLimitFailOpen bool
	// Thresholds are the HEALTH_* settings.
	Thresholds config.Health
	// Timeout bounds each check (HEALTH_TIMEOUT); 0 means 3s.
	Timeout time.Duration
	// Now is the clock for ages; nil means time.Now.
	Now func() time.Time
	// Logger gets the raw error behind a hint (the hint itself never
	// carries it); nil discards it.
	Logger *slog.Logger
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d Deps) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return defaultTimeout
}

// defaultTimeout bounds a check when no timeout is configured.
const defaultTimeout = 3 * time.Second

// failed is the result of a check that could not measure: what went
// wrong in our words (see describe); the raw error goes to the log only.
func (d Deps) failed(key, what string, err error) Result {
	if d.Logger != nil {
		d.Logger.Warn("health check failed", "check", key, "err", err)
	}
	return Result{Status: Fail, Output: what + " (" + describe(err, d.timeout()) + ")"}
}

// Standard returns the checker of every component (the keys above), each
// check under d.Timeout, run in parallel.
func Standard(d Deps) *Checker {
	if d.Backups != nil {
		// backups:age and disk:utilization both list the storage, at the
		// same moment of a round: one listing serves both.
		d.Backups = &sharedListing{list: d.Backups}
	}
	return &Checker{
		Timeout: d.timeout(),
		Now:     d.Now,
		Checks: []Check{
			{KeyDatabaseResponseTime, d.databaseResponseTime},
			{KeyDatabaseConnections, d.databaseConnections},
			{KeyQueueResponseTime, d.redisResponseTime(KeyQueueResponseTime, d.Queue, "queue Redis")},
			{KeyQueueMemory, d.queueMemory},
			{KeyCacheResponseTime, d.redisResponseTime(KeyCacheResponseTime, d.Cache, "cache Redis")},
			{KeyCacheHitRatio, d.cacheHitRatio},
			{KeyCacheEvictions, d.cacheEvictions},
			{KeyDiskUtilization, d.diskUtilization},
			{KeyMemoryUtilization, d.memoryUtilization},
			{KeyCPUUtilization, d.cpuUtilization},
			{KeyBackupsAge, d.backupsAge},
			{KeyBackupsLastRun, d.backupsLastRun},
			{KeyBackupsRestoreTime, d.backupsRestoreTime},
			{KeyQueuesLatency, d.queuesLatency},
			{KeyQueuesWorkers, d.queuesWorkers},
			{KeySchedulerLeader, d.schedulerLeader},
			{KeyRateLimitRedis, d.rateLimitRedis},
		},
	}
}

// sharedListing coalesces concurrent List calls into one: callers that
// arrive while a listing runs get its result. Nothing is kept after it
// ends, so every round lists anew.
type sharedListing struct {
	list Backups
	mu   sync.Mutex
	cur  *listingCall
}

type listingCall struct {
	done   chan struct{}
	shared int // callers that joined it (under sharedListing.mu)
	l      backup.Listing
	err    error
}

func (s *sharedListing) List(ctx context.Context) (backup.Listing, error) {
	s.mu.Lock()
	c := s.cur
	if c == nil {
		c = &listingCall{done: make(chan struct{})}
		s.cur = c
		s.mu.Unlock()
		c.l, c.err = s.list.List(ctx)
		s.mu.Lock()
		s.cur = nil
		close(c.done)
	} else {
		c.shared++
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.l, c.err
	case <-ctx.Done():
		return backup.Listing{}, ctx.Err()
	}
}

// notConfigured is the result of a check whose dependency is missing
// from Deps: a wiring mistake, not an outage.
func notConfigured(what string) Result {
	return Result{Status: Fail, Output: what + " is not configured in this process"}
}

// within runs f and returns its result, or ctx's error as soon as ctx is
// done: asynq's Inspector takes no context, so a check wraps its calls.
func within[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// millis is d in milliseconds with 0.1 ms precision, as observed values.
func millis(d time.Duration) float64 {
	return float64(d.Microseconds()/100) / 10
}
