package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// mailer delivers a rendered message and returns the server's reply.
// Errors wrapping notify.ErrPermanent will not succeed on a retry.
type mailer interface {
	Send(ctx context.Context, m *notify.Message) (string, error)
}

var _ mailer = (*notify.SMTP)(nil)

// emailHandler runs email:send: it renders the event for its one recipient
// and sends it. Temporary failures (SMTP down, 4xx) are returned as they
// are, so asynq retries them with backoff; permanent ones (5xx, settings
// that cannot work, a template that does not render) skip the retries and
// the task is archived with the reason as its last error, visible in the
// console: an email that cannot be sent is not reported by email. The
// result is the server's reply.
type emailHandler struct {
	enabled  bool
	renderer *notify.Renderer
	mailer   mailer
	log      *slog.Logger
}

func (h *emailHandler) run(ctx context.Context, p tasks.EmailSend) (string, error) {
	id := notify.AttemptFromContext(ctx).TaskID
	log := h.log.With("task", tasks.TypeEmailSend, "task_id", id, "kind", p.Kind)
	if !h.enabled {
		// Notifications were switched off after this was queued.
		log.Info("email not sent: notifications are off (EMAIL_HOST or NOTIFY_EMAILS unset)")
		return "not sent: notifications are off", nil
	}
	msg, err := h.renderer.RenderTask(p, id)
	if err != nil {
		return "", fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	reply, err := h.mailer.Send(ctx, msg)
	if errors.Is(err, notify.ErrPermanent) {
		return "", fmt.Errorf("%w; then run this task again from the console: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return "", err
	}
	log.Info("email sent", "message_id", msg.MessageID, "smtp_reply", reply)
	return reply, nil
}
