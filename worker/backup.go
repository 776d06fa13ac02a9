package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/metrics"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// Backups holds the bodies of the backup:* tasks and their failure
// reports. They are plain functions: the worker runs them through its
// adapter, and `cantina-ops backup run` calls the same ones, so both send
// the same emails with the same IDs and hints. Outside a task, name the
// run with notify.ContextWithAttempt.
type Backups struct {
	Manager  *backup.Manager
	Notifier *notify.Notifier // nil notifies nobody
	Log      *slog.Logger
	// Progress, if set, receives the dump's progress (the CLI's line).
	Progress func(backup.Progress)
	// Count, if set, counts a finished run by result (metrics.RunSuccess,
	// metrics.RunFailure) for cantina_backup_runs_total.
	Count func(ctx context.Context, result string)
}

func (b *Backups) count(ctx context.Context, result string) {
	if b.Count != nil {
		b.Count(ctx, result)
	}
}

// Run makes a backup, unless one that fulfils the request already exists
// (see fulfilledSince): it is idempotent. With several destinations it
// looks at each: when some already hold a backup that fulfils the request
// (an earlier attempt stored it there before another destination failed),
// the retry copies that backup to the others instead of dumping again. A
// completed backup is emailed when BACKUP_NOTIFY is "always".
func (b *Backups) Run(ctx context.Context, p tasks.BackupRun) (*backup.Manifest, error) {
	att := notify.AttemptFromContext(ctx)
	since := requestTime(p, att.TaskID)
	have, missing := b.fulfilled(ctx, since)
	if len(have) > 0 {
		man, err := b.complete(ctx, have[0], missing)
		if err != nil {
			return nil, err
		}
		return man, nil
	}
	trigger := p.Trigger
	if trigger == "" {
		trigger = backup.TriggerSchedule
	}
	man, err := b.Manager.Run(ctx, backup.RunOptions{Trigger: trigger, Progress: b.Progress})
	if err != nil {
		return nil, err
	}
	b.Log.Info("backup done", "backup", man.Name, "bytes", man.CompressedBytes, "duration_s", man.DurationSeconds)
	b.count(ctx, metrics.RunSuccess)
	if err := b.Notifier.BackupSucceeded(ctx, backupEvent(man, att)); err != nil {
		b.Log.Warn("queue backup success email", "err", err)
	}
	return &man, nil
}

// found is a backup that fulfils a request, in one destination.
type found struct {
	dest   backup.Destination
	backup backup.Backup
}

// fulfilled sorts the destinations into those that hold a good backup
// started at or after since (newest first within each) and those that do
// not; a destination that cannot be listed is among the latter, and the
// copy to it will report why. With a zero since every destination misses.
func (b *Backups) fulfilled(ctx context.Context, since time.Time) (have []found, missing []backup.Destination) {
	for _, m := range b.Manager.Each() {
		d := m.Dests()[0]
		if since.IsZero() {
			missing = append(missing, d)
			continue
		}
		l, err := m.List(ctx)
		if err != nil {
			b.Log.Warn("cannot list a backup destination", "destination", d.Name, "err", err)
			missing = append(missing, d)
			continue
		}
		if f, ok := fulfilledSince(l, m.Database, since); ok {
			have = append(have, found{dest: d, backup: f})
		} else {
			missing = append(missing, d)
		}
	}
	return have, missing
}

// complete copies the backup in src to every destination in missing.
func (b *Backups) complete(ctx context.Context, src found, missing []backup.Destination) (*backup.Manifest, error) {
	name := src.backup.Name
	if len(missing) == 0 {
		b.Log.Info("backup already made for this request", "backup", name)
		return src.backup.Manifest, nil
	}
	pe := &backup.PartialError{Name: name, Stored: []string{src.dest.Name}}
	for _, d := range missing {
		if _, err := b.Manager.Copy(ctx, name, src.dest, d); err != nil {
			pe.Failed = append(pe.Failed, backup.DestinationFailure{Destination: d, Err: err})
			continue
		}
		pe.Stored = append(pe.Stored, d.Name)
	}
	if len(pe.Failed) > 0 {
		return nil, pe
	}
	b.Log.Info("backup completed in every destination", "backup", name, "copied_to", len(missing))
	b.count(ctx, metrics.RunSuccess)
	if err := b.Notifier.BackupSucceeded(ctx, backupEvent(*src.backup.Manifest, notify.AttemptFromContext(ctx))); err != nil {
		b.Log.Warn("queue backup success email", "err", err)
	}
	return src.backup.Manifest, nil
}

// RunFailed emails the administrator about a backup that failed for good,
// once per task and attempt number: an operator's "Run" of the archived
// task that fails again within two days (tasks.EmailRetention) has the
// same attempt number and is not emailed again; the console shows it.
func (b *Backups) RunFailed(ctx context.Context, _ tasks.BackupRun, f Failure) error {
	b.count(ctx, metrics.RunFailure)
	return b.Notifier.BackupFailed(ctx, notify.Backup{
		ID:      failureID(f.Attempt),
		Error:   f.Err.Error(),
		Hint:    RunHint(f.Err),
		Attempt: f.Attempt,
	})
}

// RunHint is what the administrator can do about a failed backup, "" when
// the error says it all.
func RunHint(err error) string {
	return failureHint(Failure{Err: err}, "The backup took longer than BACKUP_TIMEOUT (%s); raise BACKUP_TIMEOUT if the database has grown.")
}

// failureID keys the emails of one final failure of a task.
func failureID(a notify.Attempt) string { return fmt.Sprintf("%s:%d", a.TaskID, a.Number) }

// failureHint is what the administrator can do about f: for a timeout,
// timeoutHint with the limit; else backup.Hint's advice, unless the error
// says it already.
func failureHint(f Failure, timeoutHint string) string {
	if limit, ok := f.Timeout(); ok {
		return fmt.Sprintf(timeoutHint, limit)
	}
	if h := backup.Hint(f.Err); !strings.Contains(f.Err.Error(), h) {
		return h
	}
	return ""
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
func fulfilledSince(l backup.Listing, database string, since time.Time) (backup.Backup, bool) {
	for _, b := range l.Backups {
		if b.Good() && b.Manifest != nil && b.Manifest.Database == database && !b.Manifest.StartedAt.Before(since) {
			return b, true
		}
	}
	return backup.Backup{}, false
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

// cleanupError is a cleanup that failed after deciding or deleting
// something: its report still says what happened.
type cleanupError struct {
	rep backup.CleanupReport
	err error
}

func (e *cleanupError) Error() string { return e.err.Error() }
func (e *cleanupError) Unwrap() error { return e.err }

// Cleanup applies retention to the storage and reports it (every cleanup
// when BACKUP_NOTIFY is "always", those with errors when "failure").
func (b *Backups) Cleanup(ctx context.Context, p tasks.BackupCleanup) (backup.CleanupReport, error) {
	m := b.Manager
	if p.Storage != "" {
		var err error
		if m, err = m.On(p.Storage); err != nil {
			return backup.CleanupReport{}, fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
	}
	rep, err := m.CleanupAll(ctx, p.DryRun)
	if err != nil {
		return rep, &cleanupError{rep: rep, err: err}
	}
	b.Log.Info("backup cleanup done", "dry_run", rep.DryRun, "deleted", len(rep.Deleted), "freed_bytes", rep.Freed)
	if err := b.Notifier.CleanupReport(ctx, cleanupEvent(notify.AttemptFromContext(ctx).TaskID, rep, nil)); err != nil {
		b.Log.Warn("queue cleanup report email", "err", err)
	}
	return rep, nil
}

// CleanupFailed reports a cleanup that failed for good, with what it did
// before it failed.
func (b *Backups) CleanupFailed(ctx context.Context, _ tasks.BackupCleanup, f Failure) error {
	var rep backup.CleanupReport
	var ce *cleanupError
	if errors.As(f.Err, &ce) {
		rep = ce.rep
	}
	msg := f.Err.Error()
	if h := failureHint(f, "The cleanup took longer than its limit (%s, BACKUP_TIMEOUT): it reads backups again to verify their checksums; raise BACKUP_TIMEOUT if they are large."); h != "" {
		msg += " — " + h
	}
	return b.Notifier.CleanupReport(ctx, cleanupEvent(failureID(f.Attempt), rep, []string{msg}))
}

// where names a cleanup decision's file, with its destination when the
// report covers several.
func where(d backup.Decision) string {
	if d.Destination == "" || d.Destination == backup.DefaultDestination {
		return d.Name
	}
	return d.Destination + ": " + d.Name
}

func cleanupEvent(id string, rep backup.CleanupReport, errs []string) notify.Cleanup {
	ev := notify.Cleanup{ID: id, DryRun: rep.DryRun, FreedBytes: rep.Freed}
	for _, d := range rep.Deleted {
		ev.Deleted = append(ev.Deleted, notify.File{Name: where(d), Bytes: d.Bytes})
	}
	for _, d := range rep.Decisions {
		if !d.Delete && d.Kind == backup.KindBackup {
			ev.Kept++
		}
	}
	for _, d := range rep.Failed {
		ev.Errors = append(ev.Errors, where(d)+": "+d.Reason)
	}
	ev.Errors = append(ev.Errors, errs...)
	return ev
}

// Verify checks a backup (the latest good one when p.Name is empty) and,
// with p.RestoreTest, restores it into a scratch database. A damaged
// backup is a finding, not a hiccup: it fails for good at once; an error
// reaching the database is retried.
func (b *Backups) Verify(ctx context.Context, p tasks.BackupVerify) (backup.VerifyReport, error) {
	name := p.Name
	m := b.Manager
	if p.Storage != "" {
		var err error
		if m, err = m.On(p.Storage); err != nil {
			return backup.VerifyReport{}, fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
	}
	if name == "" {
		lm, latest, err := m.LatestToVerifyAll(ctx)
		if err != nil {
			return backup.VerifyReport{}, permanentIf(err)
		}
		m, name = lm, latest.Name
	} else if p.Storage == "" {
		lm, err := m.Locate(ctx, name)
		if err != nil {
			return backup.VerifyReport{}, &verifyError{name: name, err: permanentIf(err)}
		}
		m = lm
	}
	rep, err := m.Verify(ctx, name, p.RestoreTest)
	if err != nil {
		return rep, &verifyError{name: name, err: permanentIf(err)}
	}
	b.Log.Info("backup verified", "backup", rep.Name, "restore_test", rep.RestoreTest, "tables", len(rep.Tables))
	return rep, nil
}

// verifyError names the backup a failed verification was about (the
// scheduled drill picks the latest, its payload names none).
type verifyError struct {
	name string
	err  error
}

func (e *verifyError) Error() string { return e.err.Error() }
func (e *verifyError) Unwrap() error { return e.err }

// permanentIf marks a verification finding (damaged, missing, misnamed
// backup) as permanent, and so is a missing or wrong age identity: no
// retry brings the key (one failure, one email naming the variable), nor
// the privilege a restore drill lacks (ErrCreatorPrivilege).
func permanentIf(err error) error {
	if errors.Is(err, backup.ErrVerifyFailed) || errors.Is(err, backup.ErrNotFound) || errors.Is(err, backup.ErrInvalidName) ||
		errors.Is(err, backup.ErrNoIdentity) || errors.Is(err, backup.ErrWrongIdentity) || errors.Is(err, backup.ErrCreatorPrivilege) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

// VerifyFailed emails the administrator about a verification that failed
// for good.
func (b *Backups) VerifyFailed(ctx context.Context, p tasks.BackupVerify, f Failure) error {
	stage := "verify"
	if p.RestoreTest {
		stage = "restore-test"
	}
	name := p.Name
	var ve *verifyError
	if errors.As(f.Err, &ve) {
		name = ve.name
	}
	return b.Notifier.VerifyFailed(ctx, notify.Verify{
		ID: failureID(f.Attempt), Name: name, Stage: stage, Error: f.Err.Error(),
		Hint:    failureHint(f, "The verification took longer than its limit (%s, twice BACKUP_TIMEOUT); raise BACKUP_TIMEOUT if the database has grown."),
		Attempt: f.Attempt,
	})
}
