// Package notify is how cantina-ops tells the cantina's administrator that
// something happened: a backup failed (or succeeded), a verify drill failed,
// the server became unhealthy or recovered, a cleanup ran. Every alert is an
// email, and every email goes through the queue.
//
// # The follow-up pattern
//
// Producers (task handlers, commands) never talk to SMTP. They call a
// Notifier method, which enqueues one email:send task per recipient with a
// deterministic task ID, "email:<kind>:<event key>:<recipient>" (see
// tasks.EmailSendID). A handler that runs twice for the same event (a retry
// after a crash, an operator's "Run") enqueues the same IDs again; asynq
// answers ErrTaskIDConflict, which the Notifier counts as success. Sent
// emails' tasks are retained for tasks.EmailRetention (two days), so a
// re-run within a day still conflicts: one email per recipient and event.
// The worker's email:send handler then sends with retries: a mail server
// that is down or answers 4xx is retried with backoff; a 5xx answer (a
// rejected recipient, bad credentials) is permanent and the task is archived
// with the server's reply as its last error, visible in the console.
//
// # Event data in the payload, rendered at send time
//
// The email:send payload carries the event's data (Data), not the rendered
// message. Rendering at send time keeps payloads small and readable in the
// console, and means a template bug never fails the producer: a backup
// that succeeded is not retried because its email could not be rendered.
// Instead the email task fails permanently with the template error, stays
// archived with its data intact, and an operator can run it again once a
// fixed binary is deployed — nothing is lost. Tests render every template
// in both languages, so such a bug should not get that far.
//
// Payloads never carry secrets: event strings (error messages may quote a
// DSN) are scrubbed of every configured secret before they are queued, and
// again before they are rendered; SMTP settings come from the worker's
// configuration.
//
// With no EMAIL_HOST or no NOTIFY_EMAILS, notifications are off: New logs
// that once, and every Notifier method is a silent no-op.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// Kind names a notification. It is the X-Cantina-Event header, part of the
// email task ID, and selects the template.
type Kind string

// The notification kinds.
const (
	KindBackupSucceeded Kind = "backup-succeeded"
	KindBackupFailed    Kind = "backup-failed"
	KindVerifyFailed    Kind = "verify-failed"
	KindHealthDegraded  Kind = "health-degraded"
	KindHealthFailed    Kind = "health-failed"
	KindHealthReminder  Kind = "health-reminder"
	KindHealthRecovered Kind = "health-recovered"
	KindCleanupReport   Kind = "cleanup-report"
	KindTest            Kind = "test"
)

// Kinds lists every kind, in a stable order.
func Kinds() []Kind {
	return []Kind{KindBackupSucceeded, KindBackupFailed, KindVerifyFailed,
		KindHealthDegraded, KindHealthFailed, KindHealthReminder, KindHealthRecovered, KindCleanupReport, KindTest}
}

// Enqueuer is the part of *asynq.Client the Notifier uses.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

var _ Enqueuer = (*asynq.Client)(nil)

// ErrNoEventKey is returned when an event has nothing to identify it by:
// without a key its emails could not be deduplicated.
var ErrNoEventKey = errors.New("notification event has no ID (set ID, or Attempt.TaskID)")

// EnqueueTimeout bounds the enqueueing of one event's emails. It does not
// depend on the caller's context, which may have ended already.
const EnqueueTimeout = 10 * time.Second

// Notifier enqueues notification emails. A nil *Notifier, or one with
// notifications disabled, sends nothing and returns nil.
type Notifier struct {
	q            Enqueuer
	to           []string
	lang         string
	database     string
	backupNotify string
	enabled      bool
	secrets      config.Secrets
	host         string
	now          func() time.Time
	log          *slog.Logger
}

// New returns a Notifier that enqueues through q. It logs once whether
// notifications are on; call it once per process.
func New(cfg *config.Config, q Enqueuer, log *slog.Logger) *Notifier {
	host, _ := os.Hostname()
	n := &Notifier{
		q:            q,
		to:           append([]string(nil), cfg.Email.To...),
		lang:         cfg.NotifyLang,
		database:     cfg.DB.Name,
		backupNotify: cfg.BackupNotify,
		enabled:      cfg.Email.Enabled(),
		secrets:      cfg.Secrets(),
		host:         host,
		now:          time.Now,
		log:          log.With("component", "notify"),
	}
	if n.enabled {
		n.log.Info("email notifications on", "recipients", len(n.to), "smtp_host", cfg.Email.Host, "lang", n.lang)
	} else {
		n.log.Info("email notifications off: set EMAIL_HOST and NOTIFY_EMAILS to receive alerts",
			"email_host_set", cfg.Email.Host != "", "recipients", len(n.to))
	}
	return n
}

// Enabled reports whether notifications are sent at all.
func (n *Notifier) Enabled() bool { return n != nil && n.enabled }

// BackupSucceeded notifies a completed backup, only when BACKUP_NOTIFY is
// "always".
func (n *Notifier) BackupSucceeded(ctx context.Context, b Backup) error {
	if !n.Enabled() || n.backupNotify != "always" {
		return nil
	}
	return n.send(ctx, KindBackupSucceeded, b.key(), Data{Backup: &b})
}

// BackupFailed notifies a backup that failed for good, unless BACKUP_NOTIFY
// is "never". Call it once the task will not be retried any more (see
// Attempt.Final), not on every failed attempt: the email says "do
// something", and asynq retries transient failures by itself.
func (n *Notifier) BackupFailed(ctx context.Context, b Backup) error {
	if !n.Enabled() || n.backupNotify == "never" {
		return nil
	}
	return n.send(ctx, KindBackupFailed, b.key(), Data{Backup: &b})
}

// VerifyFailed notifies a failed backup verification or restore drill,
// unless BACKUP_NOTIFY is "never".
func (n *Notifier) VerifyFailed(ctx context.Context, v Verify) error {
	if !n.Enabled() || n.backupNotify == "never" {
		return nil
	}
	return n.send(ctx, KindVerifyFailed, v.key(), Data{Verify: &v})
}

// CleanupReport notifies a retention cleanup: every one when BACKUP_NOTIFY
// is "always", only those with errors when it is "failure", none when
// "never".
func (n *Notifier) CleanupReport(ctx context.Context, c Cleanup) error {
	if !n.Enabled() || n.backupNotify == "never" || (n.backupNotify == "failure" && len(c.Errors) == 0) {
		return nil
	}
	if c.ID == "" {
		return ErrNoEventKey
	}
	return n.send(ctx, KindCleanupReport, c.ID, Data{Cleanup: &c})
}

// sendHealth queues a health notice (HealthWatch derives key from the
// stored alert state).
func (n *Notifier) sendHealth(ctx context.Context, kind Kind, key string, d Data) error {
	if !n.Enabled() {
		return nil
	}
	switch kind {
	case KindHealthDegraded, KindHealthFailed, KindHealthReminder, KindHealthRecovered:
	default:
		return fmt.Errorf("notify health: %q is not a health kind", kind)
	}
	return n.send(ctx, kind, key, d)
}

// send fills in the common fields, scrubs the data and enqueues one email
// per recipient. A conflict means the email is already queued or sent.
func (n *Notifier) send(ctx context.Context, kind Kind, key string, d Data) error {
	if key == "" {
		return ErrNoEventKey
	}
	if d.Database == "" {
		d.Database = n.database
	}
	if d.Time.IsZero() {
		d.Time = n.now().UTC()
	}
	if d.Host == "" {
		d.Host = n.host
	}
	d.scrub(n.secrets)
	if err := d.check(kind); err != nil {
		return err
	}
	event, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", kind, err)
	}
	// The caller's context may be a task's that has just timed out or been
	// cancelled, which is exactly when the email matters most: enqueue
	// with a context detached from it, bounded by its own short timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), EnqueueTimeout)
	defer cancel()
	var errs []error
	for _, to := range n.to {
		id := tasks.EmailSendID(string(kind), key, to)
		task, err := tasks.New(tasks.EmailSend{Kind: string(kind), To: to, Lang: n.lang, Event: event}, tasks.Limits{})
		if err != nil {
			return err
		}
		_, err = n.q.EnqueueContext(ctx, task, asynq.TaskID(id))
		switch {
		case err == nil:
			n.log.Info("notification queued", "kind", kind, "task_id", id)
		case errors.Is(err, asynq.ErrTaskIDConflict):
			n.log.Debug("notification already queued", "kind", kind, "task_id", id)
		default:
			errs = append(errs, fmt.Errorf("enqueue %s email for %s: %w", kind, to, err))
		}
	}
	return errors.Join(errs...)
}
