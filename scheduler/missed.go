package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// LatestBackup gives the newest good backup of the configured database,
// or an error wrapping backup.ErrNotFound when there is none.
type LatestBackup interface {
	Latest(ctx context.Context) (backup.Backup, error)
}

var _ LatestBackup = (*backup.Manager)(nil)

// watchBackups looks for a missed backup slot now and every
// BackupCheckEvery until ctx is done or the returned stop is called, which
// waits for a check under way. It runs beside the lease renewal, so a slow
// storage listing cannot cost the lease.
func (s *Scheduler) watchBackups(ctx context.Context) (stop func()) {
	if s.opts.Backups == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ticker := time.NewTicker(s.opts.BackupCheckEvery)
		defer ticker.Stop()
		for {
			s.catchUpBackup(ctx)
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// catchUpBackup enqueues the latest missed backup slot, if any, under the
// slot's task ID (so never next to the slot's own task), and logs why.
func (s *Scheduler) catchUpBackup(ctx context.Context) {
	now := s.opts.Now()
	for _, e := range s.entries {
		if e.task.Type() != tasks.TypeBackupRun {
			continue
		}
		if _, ok := lastSlot(e.sched, s.loc, now, s.opts.BackupCatchUp); !ok {
			continue // no slot in the window: nothing to list storage for
		}
		var newest time.Time
		why := "no backup yet"
		b, err := s.opts.Backups.Latest(ctx)
		switch {
		case errors.Is(err, backup.ErrNotFound):
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			// Enqueue anyway: the worker skips a slot that a good backup
			// already covers, and a missed night is worse than a listing.
			why = fmt.Sprintf("backups cannot be listed: %v", err)
		default:
			newest = startOf(b)
			why = "newest backup " + ageText(now.Sub(newest)) + " old"
		}
		slot, ok := missedSlot(e.sched, s.loc, now, s.opts.BackupCatchUp, newest)
		if !ok {
			continue
		}
		id := slotID(e.task.Type(), slot)
		log := s.log.With("task", e.task.Type(), "task_id", id, "slot", slot.In(s.loc).Format(time.RFC3339))
		_, err = s.client.EnqueueContext(ctx, e.task, asynq.TaskID(id))
		switch {
		case err == nil:
			log.Info(fmt.Sprintf("backup slot %s missed (%s): catch-up enqueued", slot.In(s.loc).Format("15:04"), why))
		case errors.Is(err, asynq.ErrTaskIDConflict):
			log.Debug("backup slot already enqueued, no catch-up needed")
		case ctx.Err() != nil:
		default:
			log.Error("backup catch-up enqueue failed, retrying at the next check", "err", err, "retry_in", s.opts.BackupCheckEvery)
		}
	}
}

// startOf is when b started: its manifest's time, else its name's.
func startOf(b backup.Backup) time.Time {
	if b.Manifest != nil && !b.Manifest.StartedAt.IsZero() {
		return b.Manifest.StartedAt
	}
	return b.Time
}

// ageText prints a backup's age in whole hours ("26h"), or minutes below
// an hour.
func ageText(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dm", int(d/time.Minute))
}
