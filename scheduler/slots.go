package scheduler

import (
	"time"

	"github.com/robfig/cron/v3"
)

// nextSlot is the first slot of sched strictly after t, in loc.
func nextSlot(sched cron.Schedule, loc *time.Location, t time.Time) time.Time {
	return sched.Next(t.In(loc))
}

// lastSlot is the latest slot of sched at or before t and no older than
// window, and whether there is one. Schedules of the @every kind have no
// fixed grid (their slots count from when the leader started), so they have
// no last slot to catch up.
func lastSlot(sched cron.Schedule, loc *time.Location, t time.Time, window time.Duration) (time.Time, bool) {
	if _, ok := sched.(cron.ConstantDelaySchedule); ok {
		return time.Time{}, false
	}
	s := sched.Next(t.Add(-window - time.Nanosecond).In(loc))
	if s.IsZero() || s.After(t) {
		return time.Time{}, false
	}
	for {
		n := sched.Next(s)
		if n.IsZero() || n.After(t) {
			return s, true
		}
		s = n
	}
}

// slotID is the asynq task ID of a periodic task's slot. Two schedulers that
// enqueue the same slot produce the same ID, and asynq refuses the second.
func slotID(taskType string, slot time.Time) string {
	return taskType + "@" + slot.UTC().Format(time.RFC3339)
}

// missedSlot is the latest slot of sched at or before now and no older
// than window that no backup covers: newest, the start of the newest good
// backup (zero when there is none), is before it. @every schedules have no
// missed slots (see lastSlot).
func missedSlot(sched cron.Schedule, loc *time.Location, now time.Time, window time.Duration, newest time.Time) (time.Time, bool) {
	slot, ok := lastSlot(sched, loc, now, window)
	if !ok || (!newest.IsZero() && !newest.Before(slot)) {
		return time.Time{}, false
	}
	return slot, true
}
