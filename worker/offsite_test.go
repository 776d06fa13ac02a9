package worker

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// TestBackupTaskOffsiteDown: two destinations, the local directory and a
// bucket on a MinIO server that is stopped. The task stores the local
// copy, fails for S3 only, and its one email names S3 and why; once MinIO
// is back, an operator's "Run" of the archived task uploads that same
// backup to the bucket (no second dump), and the bucket's copy is good.
func TestBackupTaskOffsiteDown(t *testing.T) {
	mn := testenv.StartMinIO(t)
	bucket := mn.Bucket(t)
	dir := t.TempDir()
	e := startBackupWorkerWith(t, map[string]string{
		"BACKUP_DIR":           dir,
		"BACKUP_STORAGE":       "file://" + dir + ",s3://" + bucket + "/pos",
		"S3_ENDPOINT":          mn.Endpoint,
		"S3_ACCESS_KEY_ID":     mn.AccessKey,
		"S3_SECRET_ACCESS_KEY": mn.SecretKey,
		"S3_FORCE_PATH_STYLE":  "true",
		"S3_REGION":            "us-east-1",
	})
	mn.Stop()

	info := e.enqueue(t, must(t)(tasks.New(tasks.BackupRun{Trigger: backup.TriggerAPI, RequestedAt: time.Now().UTC()}, tasks.Limits{BackupTimeout: 5 * time.Minute})), asynq.MaxRetry(0))
	ti := e.wait(t, info, asynq.TaskStateArchived)
	for _, w := range []string{"s3 (s3://" + bucket + "/pos)", "not in"} {
		if !strings.Contains(ti.LastErr, w) {
			t.Errorf("last error does not say %q: %s", w, ti.LastErr)
		}
	}
	local := e.good(t)
	if len(local) != 1 {
		t.Fatalf("%d good local backups, want 1 (made while S3 was down)", len(local))
	}
	if n := e.mails(t, notify.KindBackupFailed, 1); n != 1 {
		t.Errorf("%d failure emails, want 1", n)
	}
	for _, s := range e.mp.To(t, e.rcpt) {
		body := e.mp.Message(t, s.ID).Text
		if !strings.Contains(body, "s3 (s3://"+bucket+"/pos)") {
			t.Errorf("the failure email does not name the S3 destination:\n%s", body)
		}
		if strings.Contains(body, mn.SecretKey) {
			t.Errorf("the email shows the S3 secret")
		}
	}

	mn.Start()
	if err := e.insp.RunTask(info.Queue, info.ID); err != nil {
		t.Fatal(err)
	}
	done := e.wait(t, info, asynq.TaskStateCompleted)
	var man backup.Manifest
	if err := json.Unmarshal(done.Result, &man); err != nil || man.Name != local[0].Name {
		t.Fatalf("the retry's result names %q (%v), want the local backup %s", man.Name, err, local[0].Name)
	}
	s3m, err := e.m.On("s3")
	if err != nil {
		t.Fatal(err)
	}
	l, err := s3m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 1 || l.Backups[0].Name != local[0].Name || !l.Backups[0].Good() || l.Backups[0].Manifest.SHA256 != local[0].Manifest.SHA256 {
		t.Fatalf("bucket after the retry: %+v", l.Backups)
	}
	if g := e.good(t); len(g) != 1 {
		t.Errorf("%d local backups after the retry, want still 1 (the retry copies, it does not dump again)", len(g))
	}
}
