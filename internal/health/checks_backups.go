package health

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// backupsAge is the age of the newest good (verified) backup of
// d.Database, in seconds, against HEALTH_BACKUP_MAX_AGE.
func (d Deps) backupsAge(ctx context.Context) Result {
	if d.Backups == nil {
		return notConfigured("the backup storage")
	}
	l, err := d.Backups.List(ctx)
	if err != nil {
		what := "cannot list the backups in " + d.storageWords()
		if le := (*backup.ListError)(nil); errors.As(err, &le) {
			what = "cannot list the backups in " + le.Destination.String()
		}
		return d.failed(KeyBackupsAge, what, err)
	}
	maxAge := d.Thresholds.BackupMaxAge
	res := Result{ObservedUnit: "s", Threshold: "fail when older than " + human(maxAge) + "; warn when there is none"}
	if len(d.Destinations) < 2 {
		b, found := l.Latest(d.Database)
		var age time.Duration
		if found {
			age = b.Age(d.now())
			res.ObservedValue = int64(age.Seconds())
		}
		res.Status, res.Output = backupAgeStatus(age, found, unverified(l, d.Database), maxAge)
		return res
	}
	// Several destinations: each is judged on its own listing, and the
	// worst (then the oldest) is reported, by name.
	var worst time.Duration
	res.Status = Pass
	for _, dest := range d.Destinations {
		own := backup.Listing{}
		for _, b := range l.Backups {
			if b.Destination == dest {
				own.Backups = append(own.Backups, b)
			}
		}
		b, found := own.Latest(d.Database)
		var age time.Duration
		if found {
			age = b.Age(d.now())
		}
		st, out := backupAgeStatus(age, found, unverified(own, d.Database), maxAge)
		if st.Severity() > res.Status.Severity() || (st == res.Status && age >= worst) {
			res.Status, res.Output, worst = st, dest+": "+out, age
			res.ObservedValue = int64(age.Seconds())
		}
	}
	return res
}

// storageWords names where backups are kept, for messages.
func (d Deps) storageWords() string {
	if len(d.Destinations) > 1 || (len(d.Destinations) == 1 && d.Destinations[0] != backup.DefaultDestination) {
		return "BACKUP_STORAGE"
	}
	return "BACKUP_DIR"
}

// unverified counts the backups of database whose checksum was never
// verified.
func unverified(l backup.Listing, database string) int {
	n := 0
	for _, b := range l.Backups {
		if b.Status == backup.StatusUnverified && b.Database() == database {
			n++
		}
	}
	return n
}

// Reading the tail of asynq's archived and completed lists: at most
// lastRunPages pages of lastRunPageSize tasks each, newest pages first.
const lastRunPageSize, lastRunPages = 50, 4

// backupsLastRun fails when the last backup:run in the critical queue was
// archived (failed after all its retries, or archived by hand) after the
// last one completed.
func (d Deps) backupsLastRun(ctx context.Context) Result {
	if d.Inspector == nil {
		return notConfigured("the queue inspector")
	}
	q := tasks.QueueCritical
	infos, err := d.queueInfos(ctx, q)
	if err != nil {
		return d.failed(KeyBackupsLastRun, "cannot read the critical queue", err)
	}
	qi := infos[q]
	if qi == nil {
		st, out := lastRunStatus(time.Time{}, time.Time{})
		return Result{Status: st, Output: out, Threshold: lastRunThreshold}
	}
	archived, err := tailBackupRuns(ctx, qi.Archived, d.Inspector.ListArchivedTasks)
	if err != nil {
		return d.failed(KeyBackupsLastRun, "cannot list the archived tasks", err)
	}
	completed, err := tailBackupRuns(ctx, qi.Completed, d.Inspector.ListCompletedTasks)
	if err != nil {
		return d.failed(KeyBackupsLastRun, "cannot list the completed tasks", err)
	}
	var archivedAt, completedAt time.Time
	if len(archived) > 0 {
		archivedAt = d.archivedAt(ctx, q, archived[len(archived)-1])
	}
	for _, t := range completed {
		if t.CompletedAt.After(completedAt) {
			completedAt = t.CompletedAt
		}
	}
	st, out := lastRunStatus(archivedAt, completedAt)
	return Result{Status: st, Output: out, Threshold: lastRunThreshold}
}

const lastRunThreshold = "fail when the last backup:run was archived"

// tailBackupRuns lists the backup:run tasks among the last tasks of a
// list of total tasks that asynq keeps oldest first, in that order.
func tailBackupRuns(ctx context.Context, total int, list func(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)) ([]*asynq.TaskInfo, error) {
	last := (total + lastRunPageSize - 1) / lastRunPageSize
	var out []*asynq.TaskInfo
	for page := last; page >= 1 && page > last-lastRunPages; page-- {
		ts, err := within(ctx, func() ([]*asynq.TaskInfo, error) {
			return list(tasks.QueueCritical, asynq.PageSize(lastRunPageSize), asynq.Page(page))
		})
		if err != nil {
			return nil, err
		}
		var runs []*asynq.TaskInfo
		for _, t := range ts {
			if t.Type == tasks.TypeBackupRun {
				runs = append(runs, t)
			}
		}
		out = append(runs, out...)
	}
	return out, nil
}

// archivedAt is when t was archived: its score in asynq's archive set
// (which the Inspector does not show), else its last failure, else now
// (an archived run of unknown time counts as the last run).
func (d Deps) archivedAt(ctx context.Context, queue string, t *asynq.TaskInfo) time.Time {
	if d.Queue != nil {
		score, err := d.Queue.ZScore(ctx, asynqArchivedKey(queue), t.ID).Result()
		if err == nil {
			return time.Unix(int64(score), 0)
		}
		if !errors.Is(err, redis.Nil) && d.Logger != nil {
			d.Logger.Warn("health check: read an archived task's time", "check", KeyBackupsLastRun, "err", err)
		}
	}
	if !t.LastFailedAt.IsZero() {
		return t.LastFailedAt
	}
	return d.now()
}

// asynqArchivedKey is asynq's (v0.26) sorted set of a queue's archived
// task IDs, scored by the Unix time they were archived.
func asynqArchivedKey(queue string) string { return fmt.Sprintf("asynq:{%s}:archived", queue) }

// backupsRestoreTime is the load time of the newest restore drill of the
// database's backups (any destination), the recovery time to expect: it
// warns above HEALTH_RTO_WARN, or when that drill's copy did not match.
// Before any drill it passes, saying so.
func (d Deps) backupsRestoreTime(ctx context.Context) Result {
	if d.Backups == nil {
		return notConfigured("the backup storage")
	}
	l, err := d.Backups.List(ctx)
	if err != nil {
		return d.failed(KeyBackupsRestoreTime, "cannot list the backups in "+d.storageWords(), err)
	}
	warn := d.Thresholds.RTOWarn
	res := Result{ObservedUnit: "s", Threshold: "warn when the last restore drill took longer than " + human(warn) + " to load"}
	var last *backup.Drill
	b, found := l.LastDrill(d.Database)
	if found {
		last = b.Manifest.Drill
	}
	res.Status, res.Output = restoreTimeStatus(last, b.Name, warn)
	if last != nil {
		res.ObservedValue = math.Round(last.RestoreSeconds*10) / 10
	}
	return res
}

// restoreTimeStatus judges the last drill (nil: none yet) of backup name.
func restoreTimeStatus(last *backup.Drill, name string, warn time.Duration) (Status, string) {
	switch {
	case last == nil:
		return Pass, "no restore drill has run yet (the weekly backup:verify runs one; `cantina-ops backup verify --latest --restore-test` now)"
	case !last.OK:
		return Warn, "the last restore drill (" + name + ") loaded in " + human(last.RestoreTime().Round(time.Second)) + " but the copy did not match the manifest: see its backup:verify task"
	case last.RestoreTime() > warn:
		return Warn, "the last restore drill (" + name + ") took " + human(last.RestoreTime().Round(time.Second)) + " to load, over HEALTH_RTO_WARN " + human(warn) +
			": a restore would close the tills that long (try RESTORE_THREADS, a faster disk, or a larger buffer pool)"
	}
	return Pass, "the last restore drill (" + name + ") loaded in " + human(last.RestoreTime().Round(time.Second))
}
