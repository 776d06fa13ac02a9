package tasks

import (
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// TypeCacheAudit is the asynq type of CacheAudit.
const TypeCacheAudit = "cache:audit"

// CacheAudit is the payload of a cache:audit task: sample the POS's cache
// keyspace and compare its TTLs with CACHE_TTLS (cache.Audit). It has no
// fields: what it audits comes from the configuration.
type CacheAudit struct{}

// TaskType implements Args.
func (CacheAudit) TaskType() string { return TypeCacheAudit }

// InsertOpts implements Args. The audit only reads a bounded sample: a
// short timeout, one retry, and a week of reports in the console.
func (CacheAudit) InsertOpts(Limits) []asynq.Option {
	return []asynq.Option{
		asynq.Queue(QueueLow),
		asynq.MaxRetry(1),
		asynq.Timeout(5 * time.Minute),
		asynq.Retention(7 * 24 * time.Hour),
	}
}

// Schedule implements Scheduled: the daily audit.
func (CacheAudit) Schedule(cfg *config.Config) Periodic {
	return Periodic{"CACHE_AUDIT_SCHEDULE", cfg.CacheAuditSchedule, CacheAudit{}}
}
