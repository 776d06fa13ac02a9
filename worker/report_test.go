package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// queue is a notify.Enqueuer that keeps the email tasks it is given.
type queue struct {
	ids    []string
	events []notify.Data
	ctxErr []error
}

func (q *queue) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	p, err := tasks.Decode[tasks.EmailSend](task)
	if err != nil {
		return nil, err
	}
	var d notify.Data
	if err := json.Unmarshal(p.Event, &d); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if o.Type() == asynq.TaskIDOpt {
			q.ids = append(q.ids, o.Value().(string))
		}
	}
	q.events = append(q.events, d)
	q.ctxErr = append(q.ctxErr, ctx.Err())
	return &asynq.TaskInfo{}, nil
}

func reportingBackups(q *queue) *Backups {
	cfg := &config.Config{DB: config.DB{Name: "cantina"}, BackupNotify: "failure", NotifyLang: "en",
		Email: config.Email{Host: "smtp.example.com", To: []string{"admin@example.com"}}}
	return &Backups{Notifier: notify.New(cfg, q, logging.Discard()), Log: logging.Discard()}
}

// TestFailureReports: each backup task's final failure becomes one email
// whose ID names the task and attempt, with the hint that fits the error —
// also when the task's own context is over.
func TestFailureReports(t *testing.T) {
	att := notify.Attempt{TaskID: "backup:run@2026-11-26T02:00:00Z", Queue: "critical", Number: 2, Max: 4}
	timeout := &TimeoutError{Limit: 90 * time.Minute, Err: context.DeadlineExceeded}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		report func(b *Backups) error
		want   []string // in the event's error and hint
	}{
		{"backup timeout", func(b *Backups) error {
			return b.RunFailed(ended, tasks.BackupRun{}, Failure{Attempt: att, Err: timeout})
		}, []string{"timed out after 1h30m0s", "raise BACKUP_TIMEOUT", "(1h30m0s)"}},
		{"backup disk full", func(b *Backups) error {
			return b.RunFailed(ended, tasks.BackupRun{}, Failure{Attempt: att, Err: fmt.Errorf("write: %w", syscall.ENOSPC)})
		}, []string{backup.DiskFullHint}},
		{"verify timeout", func(b *Backups) error {
			return b.VerifyFailed(ended, tasks.BackupVerify{RestoreTest: true}, Failure{Attempt: att, Err: timeout})
		}, []string{"timed out", "twice BACKUP_TIMEOUT", "restore-test"}},
		{"cleanup failure keeps what it did", func(b *Backups) error {
			rep := backup.CleanupReport{Deleted: []backup.Decision{{Name: "cantina-20260101T020000Z.sql.gz", Bytes: 10}}}
			return b.CleanupFailed(ended, tasks.BackupCleanup{}, Failure{Attempt: att, Err: &cleanupError{rep: rep, err: errors.New("delete: permission denied")}})
		}, []string{"permission denied", "cantina-20260101T020000Z.sql.gz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &queue{}
			if err := tt.report(reportingBackups(q)); err != nil {
				t.Fatal(err)
			}
			if len(q.events) != 1 {
				t.Fatalf("%d emails queued, want 1", len(q.events))
			}
			if q.ctxErr[0] != nil {
				t.Errorf("enqueued with an ended context: %v", q.ctxErr[0])
			}
			if !strings.Contains(q.ids[0], att.TaskID+":2") {
				t.Errorf("email task ID %q does not name the task and attempt", q.ids[0])
			}
			b, _ := json.Marshal(q.events[0])
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("event does not say %q: %s", w, b)
				}
			}
		})
	}
}

// TestRunOnceReportsLikeTheWorker: the command line's run of a task body
// reports its failure through the same report, as a final attempt.
func TestRunOnceReportsLikeTheWorker(t *testing.T) {
	q := &queue{}
	b := reportingBackups(q)
	ctx := notify.ContextWithAttempt(context.Background(), notify.Attempt{TaskID: "cli:20261126T020000Z"})
	hang := func(ctx context.Context, _ tasks.BackupRun) (*backup.Manifest, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	_, err := RunOnce(ctx, tasks.BackupRun{}, 300*time.Millisecond, hang, b.RunFailed, logging.Discard())
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("error %v, want a timeout", err)
	}
	if len(q.ids) != 1 || q.ids[0] != tasks.EmailSendID(string(notify.KindBackupFailed), "cli:20261126T020000Z:0", "admin@example.com") {
		t.Errorf("emails %v", q.ids)
	}
	if h := RunHint(err); !strings.Contains(h, "raise BACKUP_TIMEOUT") {
		t.Errorf("hint %q", h)
	}
}
