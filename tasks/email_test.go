package tasks

import (
	"context"
	"errors"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

func TestEmailSendID(t *testing.T) {
	got := EmailSendID("backup-failed", "backup:run@2026-11-26T02:00:00Z", "admin@example.com")
	if want := "email:backup-failed:backup:run@2026-11-26T02:00:00Z:admin@example.com"; got != want {
		t.Errorf("EmailSendID = %q, want %q", got, want)
	}
}

func TestEmailSendRoundTrip(t *testing.T) {
	task, err := New(EmailSend{Kind: "test", To: "a@example.com", Lang: "en", Event: []byte(`{"database":"cantina"}`)}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode[EmailSend](task)
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeEmailSend || p.Kind != "test" || p.To != "a@example.com" || p.Lang != "en" || string(p.Event) != `{"database":"cantina"}` {
		t.Errorf("round trip: %s %+v", task.Type(), p)
	}
	bad := asynq.NewTask(TypeEmailSend, []byte(`{"kind":"test","smtp_password":"x"}`))
	if _, err := Decode[EmailSend](bad); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("unknown field: %v, want a permanent error", err)
	}
}

func TestHealthCheckNotifyField(t *testing.T) {
	task, err := New(HealthCheck{Notify: true}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := Decode[HealthCheck](task); err != nil || !p.Notify {
		t.Errorf("decoded %+v, %v", p, err)
	}
	if string(task.Payload()) != `{"notify":true}` {
		t.Errorf("payload %s", task.Payload())
	}
}

// TestEmailSendOptions enqueues into the real Redis and reads the options
// back: critical queue, bounded retries, a timeout, two days' retention,
// and a second enqueue under the same ID conflicts.
func TestEmailSendOptions(t *testing.T) {
	rdb := testenv.Redis(t).Client(t)
	client := asynq.NewClientFromRedisClient(rdb)
	task, err := New(EmailSend{Kind: "test", To: "a@example.com", Event: []byte(`{}`)}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	id := EmailSendID("test", "k", "a@example.com")
	info, err := client.EnqueueContext(context.Background(), task, asynq.TaskID(id))
	if err != nil {
		t.Fatal(err)
	}
	if info.Queue != QueueCritical || info.MaxRetry != EmailMaxRetry || info.Timeout <= 0 || info.Retention != EmailRetention {
		t.Errorf("options: queue %s, max retry %d, timeout %s, retention %s", info.Queue, info.MaxRetry, info.Timeout, info.Retention)
	}
	if _, err := client.EnqueueContext(context.Background(), task, asynq.TaskID(id)); !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Errorf("second enqueue: %v, want ErrTaskIDConflict", err)
	}
}
