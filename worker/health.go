package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// healthHandler runs health:check: it runs the checks and stores the report
// as the task's result, readable in the console and through the Inspector.
// A failing check is a finding, not a task failure: the task completes.
// With Notify set it emails on a change of the overall status (degraded,
// failed, recovered); if that email cannot be queued the task fails and is
// retried, and the retry queues the same email IDs.
type healthHandler struct {
	checker *health.Checker
	watch   *notify.HealthWatch
	log     *slog.Logger
}

func (h *healthHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.HealthCheck
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	rep := h.checker.Run(ctx)
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode health report: %w", err)
	}
	if _, err := t.ResultWriter().Write(b); err != nil {
		return fmt.Errorf("write health report: %w", err)
	}
	h.log.Info("health check done", "status", rep.Status, "failed", rep.Failed())
	if !p.Notify {
		return nil
	}
	tr, err := h.watch.Observe(ctx, rep)
	if err != nil {
		return fmt.Errorf("health alert: %w", err)
	}
	if tr.Kind != "" {
		h.log.Info("health status changed", "from", tr.From, "to", tr.To, "notification", tr.Kind)
	}
	return nil
}
