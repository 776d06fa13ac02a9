package tasks

import (
	"time"

	"github.com/hibiken/asynq"
)

// Triggers say who asked for a backup; they go into its manifest.
const (
	TriggerSchedule = "schedule"
	TriggerCLI      = "cli"
	TriggerAPI      = "api"
)

// BackupRun is the payload of a backup:run task.
type BackupRun struct {
	Trigger string `json:"trigger,omitempty"`
	// RequestedAt is when the backup was asked for. Any good backup that
	// started at or after it fulfils the request, so a task that runs again
	// (a retry after a crash that happened after the backup was stored)
	// does not make a second one. Scheduled tasks leave it empty: their slot
	// time, in the task ID, plays that part.
	RequestedAt time.Time `json:"requested_at,omitzero"`
}

// BackupRunMaxRetry bounds the attempts of one backup: with asynq's
// exponential backoff, four attempts span about two minutes, enough for a
// database restart, short enough to alert the same night.
const BackupRunMaxRetry = 3

// NewBackupRun builds a backup:run task. timeout is BACKUP_TIMEOUT: asynq's
// default of 30 minutes is too short for a large database and too long for a
// small one. Retention keeps the finished task (and its result, the
// manifest) a week in the console, and makes a second enqueue of the same
// scheduled slot a conflict.
func NewBackupRun(p BackupRun, timeout time.Duration, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeBackupRun, p, []asynq.Option{
		asynq.Queue(QueueCritical),
		asynq.MaxRetry(BackupRunMaxRetry),
		asynq.Timeout(timeout),
		asynq.Retention(7 * 24 * time.Hour),
	}, opts)
}

// BackupCleanup is the payload of a backup:cleanup task.
type BackupCleanup struct {
	DryRun bool `json:"dry_run,omitempty"`
}

// NewBackupCleanup builds a backup:cleanup task.
func NewBackupCleanup(p BackupCleanup, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeBackupCleanup, p, []asynq.Option{
		asynq.Queue(QueueLow),
		asynq.MaxRetry(3),
		asynq.Timeout(10 * time.Minute),
		asynq.Retention(7 * 24 * time.Hour),
	}, opts)
}

// BackupVerify is the payload of a backup:verify task.
type BackupVerify struct {
	// Name is the backup to verify; empty means the latest good one.
	Name string `json:"name,omitempty"`
	// RestoreTest restores into a scratch database and compares contents.
	RestoreTest bool `json:"restore_test,omitempty"`
}

// NewBackupVerify builds a backup:verify task. A restore drill loads the
// whole database, so it gets twice the backup timeout.
func NewBackupVerify(p BackupVerify, backupTimeout time.Duration, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeBackupVerify, p, []asynq.Option{
		asynq.Queue(QueueLow),
		asynq.MaxRetry(2),
		asynq.Timeout(2 * backupTimeout),
		asynq.Retention(30 * 24 * time.Hour),
	}, opts)
}
