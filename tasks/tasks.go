// Package tasks names every asynq task type of cantina-ops, its JSON
// payload, and the options (queue, retries, timeout, retention) it is
// enqueued with. Producers build tasks only through the New… constructors
// here, so a type's options live in one place. Payloads never carry secrets.
package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
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
)

// Queues maps queue names to priorities for the worker.
func Queues() map[string]int {
	return map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1}
}

// HealthCheck is the payload of a health:check task.
type HealthCheck struct {
	// Notify makes the check compare its overall status with the last one
	// and email on a change (degraded, failed, recovered). The scheduled
	// check sets it; a one-off check from the console need not.
	Notify bool `json:"notify,omitempty"`
}

// NewHealthCheck builds a health:check task. A check is cheap and its result
// is stale within the hour: few retries, a short timeout, a day's retention
// so operators can read recent results in the console.
func NewHealthCheck(p HealthCheck, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeHealthCheck, p, []asynq.Option{
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(2),
		asynq.Timeout(2 * time.Minute),
		asynq.Retention(24 * time.Hour),
	}, opts)
}

// newTask marshals p and appends the caller's options after the type's
// defaults, so a caller may override any of them (asynq keeps the last).
func newTask(typ string, p any, defaults, opts []asynq.Option) (*asynq.Task, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	return asynq.NewTask(typ, b, append(defaults, opts...)...), nil
}

// Decode decodes a task's JSON payload into v, rejecting unknown fields and
// trailing data. A payload that does not decode can never succeed, so the
// error wraps asynq.SkipRetry: the task is archived, not retried.
func Decode(t *asynq.Task, v any) error {
	dec := json.NewDecoder(bytes.NewReader(t.Payload()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if dec.More() {
		return fmt.Errorf("decode %s payload: trailing data: %w", t.Type(), asynq.SkipRetry)
	}
	return nil
}
