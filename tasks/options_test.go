package tasks

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestConstructorOptions enqueues one task of each constructor on a real
// Redis and reads back the options asynq stored.
func TestConstructorOptions(t *testing.T) {
	r := testenv.Redis(t)
	client := asynq.NewClientFromRedisClient(r.Client(t))
	must := func(task *asynq.Task, err error) *asynq.Task {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
	tests := []struct {
		name      string
		task      *asynq.Task
		typ       string
		queue     string
		maxRetry  int
		timeout   time.Duration
		retention time.Duration
	}{
		{"health", must(New(HealthCheck{}, Limits{})), TypeHealthCheck, QueueDefault, 2, 2 * time.Minute, 24 * time.Hour},
		{"backup run", must(New(BackupRun{Trigger: "cli"}, Limits{BackupTimeout: 90 * time.Minute})), TypeBackupRun, QueueCritical, BackupRunMaxRetry, 90 * time.Minute, 7 * 24 * time.Hour},
		{"backup cleanup", must(New(BackupCleanup{}, Limits{BackupTimeout: 3 * time.Hour})), TypeBackupCleanup, QueueLow, 3, 3 * time.Hour, 7 * 24 * time.Hour},
		{"backup verify", must(New(BackupVerify{RestoreTest: true}, Limits{BackupTimeout: time.Hour})), TypeBackupVerify, QueueLow, 2, 2 * time.Hour, 30 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := client.Enqueue(tt.task)
			if err != nil {
				t.Fatal(err)
			}
			if info.Type != tt.typ || info.Queue != tt.queue || info.MaxRetry != tt.maxRetry ||
				info.Timeout != tt.timeout || info.Retention != tt.retention {
				t.Errorf("got type %s queue %s max retry %d timeout %s retention %s; want %s %s %d %s %s",
					info.Type, info.Queue, info.MaxRetry, info.Timeout, info.Retention,
					tt.typ, tt.queue, tt.maxRetry, tt.timeout, tt.retention)
			}
		})
	}
	// A caller's option overrides the type's default.
	info, err := client.Enqueue(must(New(HealthCheck{}, Limits{}, asynq.Queue(QueueCritical))))
	if err != nil {
		t.Fatal(err)
	}
	if info.Queue != QueueCritical {
		t.Errorf("override: queue %s, want %s", info.Queue, QueueCritical)
	}
}
