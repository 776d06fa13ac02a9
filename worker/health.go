package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// healthTask runs health:check: it runs the checks; the report is the
// task's result, readable in the console and through the Inspector. A
// failing check is a finding, not a task failure: the task completes.
// With Notify set it emails on a change of the overall status (degraded,
// failed, recovered); if that email cannot be queued the task fails and is
// retried, and the retry queues the same email IDs.
type healthTask struct {
	checker *health.Checker
	watch   *notify.HealthWatch
	log     *slog.Logger
}

func (h *healthTask) run(ctx context.Context, p tasks.HealthCheck) (health.Report, error) {
	rep := h.checker.Run(ctx)
	h.log.Info("health check done", "status", rep.Status, "failed", rep.Failed())
	if !p.Notify {
		return rep, nil
	}
	tr, err := h.watch.Observe(ctx, rep)
	if err != nil {
		return rep, fmt.Errorf("health alert: %w", err)
	}
	if tr.Kind != "" {
		h.log.Info("health status changed", "from", tr.From, "to", tr.To, "notification", tr.Kind)
	}
	return rep, nil
}

// TaskCheck is the check a health:check task that failed for good
// reports as failing: the server's health is then unknown, which the
// administrator must hear about like a failing check.
const TaskCheck = "health:task"

// failed reports a health check that could not complete as a failing
// check, through the same alert state as the checks themselves (one email
// on the change, one on recovery).
func (h *healthTask) failed(ctx context.Context, p tasks.HealthCheck, f Failure) error {
	if !p.Notify {
		return nil
	}
	rep := health.Report{Status: health.Fail, Time: time.Now().UTC(), Checks: map[string]health.Result{
		TaskCheck: {Status: health.Fail, Output: "the health check could not complete: " + f.Err.Error()},
	}}
	_, err := h.watch.Observe(ctx, rep)
	return err
}
