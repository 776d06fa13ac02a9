package tasks

import "github.com/cantina-pos/cantina-ops/internal/config"

// All lists one value of every payload type: the registry of task types.
// The worker registers a handler for each (a worker test checks it), and
// the scheduler enqueues those that are Scheduled.
func All() []Args {
	return []Args{BackupRun{}, BackupCleanup{}, BackupVerify{}, HealthCheck{}, EmailSend{},
		CacheInvalidate{}, CacheAudit{},
	}
}

// Scheduled is a payload type the scheduler enqueues on a cron spec.
type Scheduled interface {
	Args
	// Schedule is the type's periodic task in cfg: its cron variable,
	// that variable's spec, and the payload each slot is enqueued with.
	Schedule(cfg *config.Config) Periodic
}

// Periodic is a task the scheduler enqueues on a cron spec.
type Periodic struct {
	// Var is the variable the spec comes from, for messages.
	Var  string
	Spec string
	Args Args
}

// PeriodicTasks lists the periodic task of every Scheduled type in All,
// with its spec from cfg: the scheduler's entries. One whose spec is
// config.ScheduleOff is left out.
func PeriodicTasks(cfg *config.Config) []Periodic {
	var out []Periodic
	for _, a := range All() {
		if s, ok := a.(Scheduled); ok {
			if p := s.Schedule(cfg); p.Spec != config.ScheduleOff {
				out = append(out, p)
			}
		}
	}
	return out
}

// Schedule implements Scheduled: the hourly check notifies on changes.
func (HealthCheck) Schedule(cfg *config.Config) Periodic {
	return Periodic{"HEALTH_SCHEDULE", cfg.HealthSchedule, HealthCheck{Notify: true}}
}

// Schedule implements Scheduled: the nightly backup (its trigger defaults
// to the schedule's).
func (BackupRun) Schedule(cfg *config.Config) Periodic {
	return Periodic{"BACKUP_SCHEDULE", cfg.BackupSchedule, BackupRun{}}
}

// Schedule implements Scheduled: retention.
func (BackupCleanup) Schedule(cfg *config.Config) Periodic {
	return Periodic{"CLEANUP_SCHEDULE", cfg.CleanupSchedule, BackupCleanup{}}
}

// Schedule implements Scheduled: the weekly restore drill of the latest
// backup.
func (BackupVerify) Schedule(cfg *config.Config) Periodic {
	return Periodic{"BACKUP_VERIFY_SCHEDULE", cfg.BackupVerifySchedule, BackupVerify{RestoreTest: true}}
}

// LimitsOf returns the task limits of cfg.
func LimitsOf(cfg *config.Config) Limits {
	return Limits{BackupTimeout: cfg.BackupTimeout}
}
