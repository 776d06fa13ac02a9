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

// healthTask runs health:check: it runs the checks and keeps the round in
// the history the console reads; the report is the task's result, readable
// in the console and through the Inspector. A failing check is a finding,
// not a task failure: the task completes. With Notify set the round drives
// the per-check alert state (health.Step): an email when checks start to
// fail or warn, reminders, recoveries. If the history or the email cannot
// be stored or queued the task fails and is retried, and the retry queues
// the same email IDs.
type healthTask struct {
	checker *health.Checker
	watch   *notify.HealthWatch
	history *health.History
	log     *slog.Logger
}

func (h *healthTask) run(ctx context.Context, p tasks.HealthCheck) (health.Report, error) {
	rep := h.checker.Run(ctx)
	h.log.Info("health check done", "status", rep.Status, "failed", rep.Failed())
	if err := h.history.Add(ctx, rep); err != nil {
		return rep, err
	}
	if !p.Notify {
		return rep, nil
	}
	if err := h.observe(ctx, rep); err != nil {
		return rep, fmt.Errorf("health alert: %w", err)
	}
	return rep, nil
}

// failed reports a health check that could not complete as a failing
// check, through the same alert state as the checks themselves: the round
// is partial (health.Report.Complete), so the other checks keep their
// alerts, and health.TaskCheck resolves once rounds complete again.
func (h *healthTask) failed(ctx context.Context, p tasks.HealthCheck, f Failure) error {
	rep := health.Report{Status: health.Fail, Time: time.Now().UTC(), Checks: map[string]health.Result{
		health.TaskCheck: {Status: health.Fail, Output: taskFailureHint(f)},
	}}
	h.log.Error("health check could not complete", "err", f.Err)
	if err := h.history.Add(ctx, rep); err != nil {
		h.log.Warn("health round not kept", "err", err)
	}
	if !p.Notify {
		return nil
	}
	return h.observe(ctx, rep)
}

// taskFailureHint says in our words why the health check did not
// complete; the raw error (which may name hosts and ports) goes to the log.
func taskFailureHint(f Failure) string {
	if limit, ok := f.Timeout(); ok {
		return fmt.Sprintf("the health check did not complete within its limit (%s); see the worker's log", limit)
	}
	return "the health check could not complete; the error is in the worker's log"
}

// observe steps the alert state with rep and logs the notice it queued.
func (h *healthTask) observe(ctx context.Context, rep health.Report) error {
	n, err := h.watch.Observe(ctx, rep)
	if err != nil {
		return err
	}
	if n.Kind != "" {
		h.log.Info("health notice", "notification", n.Kind, "key", n.Key, "checks", len(n.Alerts))
	}
	return nil
}
