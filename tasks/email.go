package tasks

import (
	"encoding/json"
	"time"

	"github.com/hibiken/asynq"
)

// EmailSend is the payload of an email:send task: one notification for one
// recipient. It carries the event's data, not the rendered message; the
// worker renders it when it sends (internal/notify explains why). It never
// carries SMTP settings or secrets: the worker reads those from its config.
type EmailSend struct {
	// Kind is the notification kind, e.g. "backup-failed".
	Kind string `json:"kind"`
	// To is the one recipient of this task.
	To string `json:"to"`
	// Lang is "es" or "en"; empty means the worker's NOTIFY_LANG.
	Lang string `json:"lang,omitempty"`
	// Event is the event's data as internal/notify encodes it for Kind.
	Event json.RawMessage `json:"event"`
}

// EmailRetention keeps a sent email's task (and so its task ID) for two
// days: an event notified again within a day — a handler that runs twice,
// an operator's "Run" — conflicts with it instead of sending a second email.
const EmailRetention = 48 * time.Hour

// EmailMaxRetry bounds the attempts. With asynq's default backoff (n⁴ + 15 s
// + jitter) twelve retries span about eleven hours: a mail server that is
// down overnight still gets the alert out; after that the task is archived,
// visible in the console.
const EmailMaxRetry = 12

// EmailSendID is the task ID of the email for one event and one recipient:
// "email:<kind>:<event key>:<recipient>". Enqueuing the same event twice
// yields asynq.ErrTaskIDConflict, so at most one email per recipient.
func EmailSendID(kind, key, to string) string {
	return "email:" + kind + ":" + key + ":" + to
}

// TaskType implements Args.
func (EmailSend) TaskType() string { return TypeEmailSend }

// InsertOpts implements Args. Alerts go to the critical queue; one attempt
// is bounded by two minutes (the SMTP client's own timeouts are shorter).
func (EmailSend) InsertOpts(Limits) []asynq.Option {
	return []asynq.Option{
		asynq.Queue(QueueCritical),
		asynq.MaxRetry(EmailMaxRetry),
		asynq.Timeout(2 * time.Minute),
		asynq.Retention(EmailRetention),
	}
}
