package notify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// fakeQueue records enqueued tasks and, like asynq, refuses a task ID it
// already holds.
type fakeQueue struct {
	mu    sync.Mutex
	tasks map[string]*asynq.Task
	order []string
	err   error
}

func (q *fakeQueue) EnqueueContext(_ context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return nil, q.err
	}
	id := taskIDOf(opts)
	if _, ok := q.tasks[id]; ok {
		return nil, asynq.ErrTaskIDConflict
	}
	if q.tasks == nil {
		q.tasks = map[string]*asynq.Task{}
	}
	q.tasks[id] = t
	q.order = append(q.order, id)
	return &asynq.TaskInfo{ID: id, Type: t.Type()}, nil
}

func (q *fakeQueue) ids() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.order...)
}

func taskIDOf(opts []asynq.Option) string {
	for _, o := range opts {
		if o.Type() == asynq.TaskIDOpt {
			return o.Value().(string)
		}
	}
	return ""
}

func TestNotifierPolicy(t *testing.T) {
	ctx := context.Background()
	backup := Backup{ID: "b1", Error: "boom"}
	calls := map[string]func(n *Notifier) error{
		"succeeded":        func(n *Notifier) error { return n.BackupSucceeded(ctx, backup) },
		"failed":           func(n *Notifier) error { return n.BackupFailed(ctx, backup) },
		"verify":           func(n *Notifier) error { return n.VerifyFailed(ctx, Verify{ID: "v1", Error: "boom"}) },
		"cleanup":          func(n *Notifier) error { return n.CleanupReport(ctx, Cleanup{ID: "c1", Kept: 7}) },
		"cleanup w/errors": func(n *Notifier) error { return n.CleanupReport(ctx, Cleanup{ID: "c2", Errors: []string{"x"}}) },
	}
	// emails per call, for the two configured recipients.
	want := map[string]map[string]int{
		"always":  {"succeeded": 2, "failed": 2, "verify": 2, "cleanup": 2, "cleanup w/errors": 2},
		"failure": {"succeeded": 0, "failed": 2, "verify": 2, "cleanup": 0, "cleanup w/errors": 2},
		"never":   {"succeeded": 0, "failed": 0, "verify": 0, "cleanup": 0, "cleanup w/errors": 0},
	}
	for policy, byCall := range want {
		for call, n := range byCall {
			t.Run(policy+"/"+call, func(t *testing.T) {
				cfg := testConfig(t)
				cfg.BackupNotify = policy
				q := &fakeQueue{}
				if err := calls[call](New(cfg, q, logging.Discard())); err != nil {
					t.Fatal(err)
				}
				if got := len(q.ids()); got != n {
					t.Errorf("%d emails queued, want %d", got, n)
				}
			})
		}
	}
}

func TestNotifierOff(t *testing.T) {
	ctx := context.Background()
	for name, mutate := range map[string]func(*Notifier){
		"no host":       func(n *Notifier) { n.enabled = false },
		"no recipients": func(n *Notifier) { n.enabled = false; n.to = nil },
	} {
		t.Run(name, func(t *testing.T) {
			q := &fakeQueue{}
			n := New(testConfig(t), q, logging.Discard())
			mutate(n)
			if err := n.BackupFailed(ctx, Backup{ID: "b1"}); err != nil || len(q.ids()) != 0 {
				t.Errorf("err %v, %d queued; want nothing", err, len(q.ids()))
			}
		})
	}
	var n *Notifier
	if n.Enabled() || n.BackupFailed(ctx, Backup{ID: "b"}) != nil {
		t.Error("a nil Notifier must be a silent no-op")
	}
	cfg := testConfig(t)
	cfg.Email.Host = ""
	if New(cfg, &fakeQueue{}, logging.Discard()).Enabled() {
		t.Error("enabled without EMAIL_HOST")
	}
}

// TestNotifierQueuesOneTaskPerRecipientOnce: deterministic task IDs, the
// payload's contents, and a second call for the same event is a no-op.
func TestNotifierQueuesOneTaskPerRecipientOnce(t *testing.T) {
	ctx := context.Background()
	q := &fakeQueue{}
	n := New(testConfig(t), q, logging.Discard())
	b := Backup{
		Error:   "dial mysql://cantina:" + dbPassword + "@db.internal:3306/cantina: refused",
		Attempt: Attempt{TaskID: "backup:run@2026-11-26T02:00:00Z", Queue: "critical", Number: 3, Max: 3},
	}
	for range 2 {
		if err := n.BackupFailed(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	wantIDs := []string{
		"email:backup-failed:backup:run@2026-11-26T02:00:00Z:admin@example.com",
		"email:backup-failed:backup:run@2026-11-26T02:00:00Z:ops@cantina.test",
	}
	if got := q.ids(); strings.Join(got, " ") != strings.Join(wantIDs, " ") {
		t.Fatalf("task IDs %q, want %q", got, wantIDs)
	}
	task := q.tasks[wantIDs[0]]
	if task.Type() != tasks.TypeEmailSend {
		t.Errorf("type %q", task.Type())
	}
	if strings.Contains(string(task.Payload()), dbPassword) {
		t.Errorf("payload carries the DB password: %s", task.Payload())
	}
	p, err := tasks.Decode[tasks.EmailSend](task)
	if err != nil {
		t.Fatal(err)
	}
	var d Data
	if err := json.Unmarshal(p.Event, &d); err != nil {
		t.Fatal(err)
	}
	if p.Kind != string(KindBackupFailed) || p.To != "admin@example.com" || p.Lang != "es" ||
		d.Database != "cantina" || d.Time.IsZero() || d.Host == "" || d.Backup == nil || d.Backup.Attempt.Number != 3 ||
		!strings.Contains(d.Backup.Error, "mysql://cantina:[REDACTED]@db.internal") {
		t.Errorf("payload %+v, event %+v, backup %+v", p, d, d.Backup)
	}
}

func TestNotifierErrors(t *testing.T) {
	ctx := context.Background()
	n := New(testConfig(t), &fakeQueue{}, logging.Discard())
	if err := n.BackupFailed(ctx, Backup{Error: "x"}); !errors.Is(err, ErrNoEventKey) {
		t.Errorf("no ID: %v, want ErrNoEventKey", err)
	}
	if err := n.CleanupReport(ctx, Cleanup{Errors: []string{"x"}}); !errors.Is(err, ErrNoEventKey) {
		t.Errorf("cleanup without ID: %v, want ErrNoEventKey", err)
	}
	down := errors.New("redis: connection refused")
	n = New(testConfig(t), &fakeQueue{err: down}, logging.Discard())
	err := n.BackupFailed(ctx, Backup{ID: "b1"})
	if !errors.Is(err, down) || !strings.Contains(err.Error(), "admin@example.com") || !strings.Contains(err.Error(), "ops@cantina.test") {
		t.Errorf("enqueue failure: %v, want one error per recipient wrapping the cause", err)
	}
}

func TestAttemptFinal(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		a    Attempt
		err  error
		want bool
	}{
		{Attempt{Number: 1, Max: 4}, boom, false},
		{Attempt{Number: 4, Max: 4}, boom, true},
		{Attempt{Number: 1, Max: 4}, errors.Join(boom, asynq.SkipRetry), true},
		{Attempt{}, boom, true}, // a command: no retries
		{Attempt{Number: 4, Max: 4}, nil, false},
	}
	for _, tt := range tests {
		if got := tt.a.Final(tt.err); got != tt.want {
			t.Errorf("%+v.Final(%v) = %v, want %v", tt.a, tt.err, got, tt.want)
		}
	}
	if a := AttemptFromContext(context.Background()); a != (Attempt{}) {
		t.Errorf("outside a task: %+v", a)
	}
}
