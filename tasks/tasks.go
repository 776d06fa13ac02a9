// Package tasks names every asynq task type of cantina-ops: each payload
// type (River's JobArgs model) knows its task type name (TaskType) and the
// options it is enqueued with (InsertOpts), so a type's name, queue,
// retries, timeout and retention live in one place. Producers build tasks
// only through New; the worker decodes them strictly through Decode.
// Payloads are JSON and never carry secrets.
package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
)

// Task types, as asynq type names.
const (
	TypeBackupRun       = "backup:run"
	TypeBackupCleanup   = "backup:cleanup"
	TypeBackupVerify    = "backup:verify"
	TypeHealthCheck     = "health:check"
	TypeEmailSend       = "email:send"
	TypeCacheInvalidate = "cache:invalidate"
)

// Queues and their weights: a worker picks from critical six times as often
// as from low, and never starves low.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
	// QueueCache holds cache:invalidate alone. The worker serves it with a
	// server of its own that looks for new tasks every CACHE_INVALIDATE_POLL
	// (the others wait up to a second when idle), so that an invalidation
	// the POS waits for is done in milliseconds.
	QueueCache = "cache"
)

// SchedulerLeaseKey is the queue Redis key the scheduler leader holds
// (package scheduler); the health check scheduler:leader reads it.
const SchedulerLeaseKey = "cantina:scheduler:leader"

// Queues maps queue names to priorities for the worker's main server.
func Queues() map[string]int {
	return map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1}
}

// FastQueues are the queues of the worker's fast server (CACHE_INVALIDATE_POLL).
func FastQueues() map[string]int { return map[string]int{QueueCache: 1} }

// AllQueues names every queue, sorted: what monitoring looks at.
func AllQueues() []string {
	var out []string
	for q := range Queues() {
		out = append(out, q)
	}
	for q := range FastQueues() {
		out = append(out, q)
	}
	slices.Sort(out)
	return out
}

// Args is a task payload: a JSON-encodable struct that names its task type
// and the options tasks of that type are enqueued with.
type Args interface {
	// TaskType is the asynq task type name, e.g. "backup:run".
	TaskType() string
	// InsertOpts are the type's default options; l carries the configured
	// bounds some of them depend on.
	InsertOpts(l Limits) []asynq.Option
}

// Limits are the configured bounds task options depend on.
type Limits struct {
	// BackupTimeout is BACKUP_TIMEOUT: one backup:run attempt's limit.
	// Zero means DefaultBackupTimeout.
	BackupTimeout time.Duration
}

// DefaultBackupTimeout is BACKUP_TIMEOUT's default.
const DefaultBackupTimeout = time.Hour

func (l Limits) backupTimeout() time.Duration {
	if l.BackupTimeout > 0 {
		return l.BackupTimeout
	}
	return DefaultBackupTimeout
}

// New builds the task of a: its kind, its JSON payload, the type's options
// and then opts, so a caller may override any of them (asynq keeps the
// last).
func New(a Args, l Limits, opts ...asynq.Option) (*asynq.Task, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", a.TaskType(), err)
	}
	return asynq.NewTask(a.TaskType(), b, append(a.InsertOpts(l), opts...)...), nil
}

// Decode decodes a task's JSON payload into an A, rejecting another task
// type, unknown fields and trailing data. A payload that does not decode
// can never succeed, so the error wraps asynq.SkipRetry: the task is
// archived, not retried.
func Decode[A Args](t *asynq.Task) (A, error) {
	var a A
	if t.Type() != a.TaskType() {
		return a, fmt.Errorf("decode %s payload: the task is a %s: %w", a.TaskType(), t.Type(), asynq.SkipRetry)
	}
	dec := json.NewDecoder(bytes.NewReader(t.Payload()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if dec.More() {
		return a, fmt.Errorf("decode %s payload: trailing data: %w", t.Type(), asynq.SkipRetry)
	}
	return a, nil
}

// HealthCheck is the payload of a health:check task.
type HealthCheck struct {
	// Notify makes the check compare its overall status with the last one
	// and email on a change (degraded, failed, recovered). The scheduled
	// check sets it; a one-off check from the console need not.
	Notify bool `json:"notify,omitempty"`
}

// TaskType implements Args.
func (HealthCheck) TaskType() string { return TypeHealthCheck }

// InsertOpts implements Args. A check is cheap and its result is stale
// within the hour: few retries, a short timeout, a day's retention so
// operators can read recent results in the console.
func (HealthCheck) InsertOpts(Limits) []asynq.Option {
	return []asynq.Option{
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(2),
		asynq.Timeout(2 * time.Minute),
		asynq.Retention(24 * time.Hour),
	}
}
