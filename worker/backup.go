package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// backupDeps are what the backup handlers share.
type backupDeps struct {
	m   *backup.Manager
	n   *notify.Notifier
	log *slog.Logger
}

// backupRunHandler runs backup:run. It is idempotent: a backup that already
// exists for the request (see fulfilledSince) is reported, not made again.
// Failures are retried by asynq; the last one emails the administrator.
type backupRunHandler struct{ backupDeps }

func (h *backupRunHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.BackupRun
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	att := notify.AttemptFromContext(ctx)
	since := requestTime(p, att.TaskID)
	if b, ok, err := h.done(ctx, since); err != nil {
		return h.failed(ctx, att, err)
	} else if ok {
		h.log.Info("backup already made for this request", "backup", b.Name, "requested_at", since)
		return writeResult(t, b.Manifest)
	}
	trigger := p.Trigger
	if trigger == "" {
		trigger = tasks.TriggerSchedule
	}
	man, err := h.m.Run(ctx, backup.RunOptions{Trigger: trigger})
	if err != nil {
		return h.failed(ctx, att, err)
	}
	h.log.Info("backup done", "backup", man.Name, "bytes", man.CompressedBytes, "duration_s", man.DurationSeconds)
	if err := h.n.BackupSucceeded(ctx, backupEvent(man, att)); err != nil {
		h.log.Warn("queue backup success email", "err", err)
	}
	return writeResult(t, &man)
}

// done finds a good backup that started at or after since.
func (h *backupRunHandler) done(ctx context.Context, since time.Time) (backup.Backup, bool, error) {
	if since.IsZero() {
		return backup.Backup{}, false, nil
	}
	l, err := h.m.List(ctx)
	if err != nil {
		return backup.Backup{}, false, fmt.Errorf("list backups: %w", err)
	}
	return fulfilledSince(l, h.m.Database, since)
}

// failed emails the administrator when err ends the task, and returns err
// for asynq (which retries it unless it was the last attempt).
func (h *backupRunHandler) failed(ctx context.Context, att notify.Attempt, err error) error {
	if att.Final(err) {
		nerr := h.n.BackupFailed(ctx, notify.Backup{
			// One email per final failure of this task: an operator's
			// "Run" of the archived task that fails again emails again.
			ID:      fmt.Sprintf("%s:%d", att.TaskID, att.Number),
			Error:   err.Error(),
			Hint:    backupHint(err),
			Attempt: att,
		})
		if nerr != nil {
			h.log.Error("queue backup failure email", "err", nerr)
		}
	}
	return err
}

// requestTime is when a backup:run was asked for: the payload's time, or
// the slot time of a scheduled task ID ("backup:run@2026-11-26T02:00:00Z").
func requestTime(p tasks.BackupRun, taskID string) time.Time {
	if !p.RequestedAt.IsZero() {
		return p.RequestedAt
	}
	if _, slot, ok := strings.Cut(taskID, "@"); ok {
		if t, err := time.Parse(time.RFC3339, slot); err == nil {
			return t
		}
	}
	return time.Time{}
}

// fulfilledSince returns the newest good backup of database that started at
// or after since.
func fulfilledSince(l backup.Listing, database string, since time.Time) (backup.Backup, bool, error) {
	for _, b := range l.Backups {
		if b.Good() && b.Manifest != nil && b.Manifest.Database == database && !b.Manifest.StartedAt.Before(since) {
			return b, true, nil
		}
	}
	return backup.Backup{}, false, nil
}

// backupHint says what the administrator can do about a failed backup.
func backupHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "The backup disk is full: free space in BACKUP_DIR (or lower BACKUP_RETENTION_DAYS and run `cantina-ops backup cleanup`), then retry."
	case errors.Is(err, backup.ErrBackupRunning):
		return "Another backup or restore of this database was running the whole time; check the console's active tasks."
	case errors.Is(err, context.DeadlineExceeded):
		return "The backup took longer than BACKUP_TIMEOUT; raise it if the database has grown."
	default:
		return ""
	}
}

func backupEvent(man backup.Manifest, att notify.Attempt) notify.Backup {
	return notify.Backup{
		Name:     man.Name,
		Engine:   man.Engine,
		Bytes:    man.CompressedBytes,
		RawBytes: man.RawBytes,
		SHA256:   man.SHA256,
		Tables:   len(man.Tables),
		Rows:     man.Rows(),
		Duration: man.Duration(),
		Attempt:  att,
	}
}

// backupCleanupHandler runs backup:cleanup: retention over the storage.
type backupCleanupHandler struct{ backupDeps }

func (h *backupCleanupHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.BackupCleanup
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	rep, err := h.m.Cleanup(ctx, p.DryRun)
	att := notify.AttemptFromContext(ctx)
	if err == nil || att.Final(err) {
		ev := notify.Cleanup{ID: att.TaskID, DryRun: rep.DryRun, FreedBytes: rep.Freed}
		for _, d := range rep.Deleted {
			ev.Deleted = append(ev.Deleted, notify.File{Name: d.Name, Bytes: d.Bytes})
		}
		for _, d := range rep.Decisions {
			if !d.Delete && d.Kind == "backup" {
				ev.Kept++
			}
		}
		for _, d := range rep.Failed {
			ev.Errors = append(ev.Errors, d.Name+": "+d.Reason)
		}
		if err != nil {
			ev.Errors = append(ev.Errors, err.Error())
		}
		if nerr := h.n.CleanupReport(ctx, ev); nerr != nil {
			h.log.Warn("queue cleanup report email", "err", nerr)
		}
	}
	if err != nil {
		return err
	}
	h.log.Info("backup cleanup done", "dry_run", rep.DryRun, "deleted", len(rep.Deleted), "freed_bytes", rep.Freed)
	return writeResult(t, rep)
}

// backupVerifyHandler runs backup:verify, the restore drill. A damaged
// backup is a finding, not a hiccup: it fails for good at once (and
// emails); an error reaching the database is retried.
type backupVerifyHandler struct{ backupDeps }

func (h *backupVerifyHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p tasks.BackupVerify
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	att := notify.AttemptFromContext(ctx)
	name, err := h.target(ctx, p.Name)
	var rep backup.VerifyReport
	if err == nil {
		rep, err = h.m.Verify(ctx, name, p.RestoreTest)
	}
	if errors.Is(err, backup.ErrVerifyFailed) || errors.Is(err, backup.ErrNotFound) || errors.Is(err, backup.ErrInvalidName) {
		err = fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		if att.Final(err) {
			stage := "verify"
			if p.RestoreTest {
				stage = "restore-test"
			}
			nerr := h.n.VerifyFailed(ctx, notify.Verify{
				ID: fmt.Sprintf("%s:%d", att.TaskID, att.Number), Name: name,
				Stage: stage, Error: err.Error(), Attempt: att,
			})
			if nerr != nil {
				h.log.Error("queue verify failure email", "err", nerr)
			}
		}
		return err
	}
	h.log.Info("backup verified", "backup", rep.Name, "restore_test", rep.RestoreTest, "tables", len(rep.Tables))
	return writeResult(t, rep)
}

// target is the backup to verify: name, or the latest good one.
func (h *backupVerifyHandler) target(ctx context.Context, name string) (string, error) {
	if name != "" {
		return name, nil
	}
	b, err := h.m.Latest(ctx)
	return b.Name, err
}

// writeResult stores v as the task's result, readable in the console.
func writeResult(t *asynq.Task, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s result: %w", t.Type(), err)
	}
	if _, err := t.ResultWriter().Write(b); err != nil {
		return fmt.Errorf("write %s result: %w", t.Type(), err)
	}
	return nil
}
