package tasks

import "github.com/cantina-pos/cantina-ops/internal/config"

// All lists one value of every payload type: the types the worker must
// handle (a worker test checks it registers each one).
func All() []Args {
	return []Args{BackupRun{}, BackupCleanup{}, BackupVerify{}, HealthCheck{}, EmailSend{}}
}

// Periodic is a task the scheduler enqueues on a cron spec.
type Periodic struct {
	// Var is the variable the spec comes from, for messages.
	Var  string
	Spec string
	Args Args
}

// PeriodicTasks lists every periodic task with its spec from cfg: the
// scheduler's entries.
func PeriodicTasks(cfg *config.Config) []Periodic {
	return []Periodic{
		{"HEALTH_SCHEDULE", cfg.HealthSchedule, HealthCheck{Notify: true}},
		{"BACKUP_SCHEDULE", cfg.BackupSchedule, BackupRun{}},
		{"CLEANUP_SCHEDULE", cfg.CleanupSchedule, BackupCleanup{}},
		{"BACKUP_VERIFY_SCHEDULE", cfg.BackupVerifySchedule, BackupVerify{RestoreTest: true}},
	}
}

// LimitsOf returns the task limits of cfg.
func LimitsOf(cfg *config.Config) Limits {
	return Limits{BackupTimeout: cfg.BackupTimeout}
}
