package tasks

import (
	"time"

	"github.com/hibiken/asynq"
)

// BackupRun is the payload of a backup:run task.
type BackupRun struct {
	// Trigger is who asked: backup.TriggerSchedule (the default),
	// TriggerCLI, TriggerAPI or TriggerConsole; it goes into the manifest.
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
// database restart, short enough to alert the same night. An attempt that
// hits BACKUP_TIMEOUT is retried once at most (see package worker).
const BackupRunMaxRetry = 3

// TaskType implements Args.
func (BackupRun) TaskType() string { return TypeBackupRun }

// InsertOpts implements Args. The timeout is BACKUP_TIMEOUT: asynq's
// default of 30 minutes is too short for a large database and too long for
// a small one. Retention keeps the finished task (and its result, the
// manifest) a week in the console, and makes a second enqueue of the same
// scheduled slot a conflict.
func (BackupRun) InsertOpts(l Limits) []asynq.Option {
	return []asynq.Option{
		asynq.Queue(QueueCritical),
		asynq.MaxRetry(BackupRunMaxRetry),
		asynq.Timeout(l.backupTimeout()),
		asynq.Retention(7 * 24 * time.Hour),
	}
}

// BackupCleanup is the payload of a backup:cleanup task.
type BackupCleanup struct {
	DryRun bool `json:"dry_run,omitempty"`
	// Storage limits the cleanup to one destination (its name in
	// BACKUP_STORAGE); empty means every destination.
	Storage string `json:"storage,omitempty"`
}

// TaskType implements Args.
func (BackupCleanup) TaskType() string { return TypeBackupCleanup }

// InsertOpts implements Args. A cleanup reads backups again to verify
// their checksums before it trusts them (the KeepMin newest ones, and every
// one never verified), so its limit grows with BACKUP_TIMEOUT.
func (BackupCleanup) InsertOpts(l Limits) []asynq.Option {
	return []asynq.Option{
		asynq.Queue(QueueLow),
		asynq.MaxRetry(3),
		asynq.Timeout(l.backupTimeout()),
		asynq.Retention(7 * 24 * time.Hour),
	}
}

// VerifyTimeout is the limit of one verification with its restore drill:
// twice the backup's, as the drill loads the whole database.
func (l Limits) VerifyTimeout() time.Duration { return 2 * l.backupTimeout() }

// BackupVerify is the payload of a backup:verify task.
type BackupVerify struct {
	// Name is the backup to verify; empty means the latest good one.
	Name string `json:"name,omitempty"`
	// RestoreTest restores into a scratch database and compares contents.
	RestoreTest bool `json:"restore_test,omitempty"`
	// Storage is the destination to read it from (its name in
	// BACKUP_STORAGE); empty means the first that has it.
	Storage string `json:"storage,omitempty"`
}

// TaskType implements Args.
func (BackupVerify) TaskType() string { return TypeBackupVerify }

// InsertOpts implements Args. A restore drill loads the whole database, so
// it gets twice the backup timeout.
func (BackupVerify) InsertOpts(l Limits) []asynq.Option {
	return []asynq.Option{
		asynq.Queue(QueueLow),
		asynq.MaxRetry(2),
		asynq.Timeout(l.VerifyTimeout()),
		asynq.Retention(30 * 24 * time.Hour),
	}
}
