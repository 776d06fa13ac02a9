package scheduler

import (
	"maps"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// zones returns Madrid's time zone and a parser of "2006-01-02 15:04:05"
// times in a zone.
func zones(t *testing.T) (*time.Location, func(*time.Location, string) time.Time) {
	t.Helper()
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	return madrid, func(loc *time.Location, s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestLastSlot(t *testing.T) {
	madrid, at := zones(t)
	utc := time.UTC
	tests := []struct {
		name   string
		spec   string
		loc    *time.Location
		now    time.Time
		window time.Duration
		want   time.Time
		ok     bool
	}{
		{"hourly, just after the slot", "0 * * * *", utc, at(utc, "2026-11-26 14:00:30"), 5 * time.Minute, at(utc, "2026-11-26 14:00:00"), true},
		{"hourly, exactly on the slot", "0 * * * *", utc, at(utc, "2026-11-26 14:00:00"), 5 * time.Minute, at(utc, "2026-11-26 14:00:00"), true},
		{"hourly, slot outside the window", "0 * * * *", utc, at(utc, "2026-11-26 14:06:00"), 5 * time.Minute, time.Time{}, false},
		{"every minute picks the latest", "* * * * *", utc, at(utc, "2026-11-26 14:03:10"), 5 * time.Minute, at(utc, "2026-11-26 14:03:00"), true},
		{"daily at 02:00 in Madrid", "0 2 * * *", madrid, at(madrid, "2026-11-26 02:04:00"), 5 * time.Minute, at(madrid, "2026-11-26 02:00:00"), true},
		{"daily at 02:00 in Madrid, read in UTC", "0 2 * * *", madrid, at(utc, "2026-11-26 01:01:00"), 5 * time.Minute, at(madrid, "2026-11-26 02:00:00"), true},
		{"descriptor @hourly", "@hourly", utc, at(utc, "2026-11-26 14:01:00"), 5 * time.Minute, at(utc, "2026-11-26 14:00:00"), true},
		{"@every has no grid", "@every 1s", utc, at(utc, "2026-11-26 14:01:00"), 5 * time.Minute, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, err := config.ParseSchedule(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := lastSlot(sched, tt.loc, tt.now, tt.window)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("lastSlot(%q, %s) = %s, %v; want %s, %v", tt.spec, tt.now, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNextSlot(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC) // 01:30 in Madrid
	tests := []struct {
		name string
		spec string
		loc  *time.Location
		from time.Time
		want time.Time
	}{
		{"daily 02:00 UTC", "0 2 * * *", time.UTC, base, time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)},
		{"daily 02:00 Madrid is 01:00 UTC", "0 2 * * *", madrid, base, time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)},
		{"strictly after a slot", "0 * * * *", time.UTC, time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)},
		{"@every 1s from a whole second", "@every 1s", time.UTC, base, base.Add(time.Second)},
		{"@every 1s from a fraction", "@every 1s", time.UTC, base.Add(300 * time.Millisecond), base.Add(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, err := config.ParseSchedule(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := nextSlot(sched, tt.loc, tt.from); !got.Equal(tt.want) {
				t.Errorf("nextSlot(%q, %s) = %s, want %s", tt.spec, tt.from, got, tt.want)
			}
		})
	}
}

func TestSlotID(t *testing.T) {
	madrid, _ := time.LoadLocation("Europe/Madrid")
	a := time.Date(2026, 11, 26, 2, 0, 0, 0, madrid)
	b := a.UTC()
	if slotID("backup:run", a) != slotID("backup:run", b) {
		t.Errorf("same instant in two zones gives two IDs: %s, %s", slotID("backup:run", a), slotID("backup:run", b))
	}
	if got, want := slotID("health:check", b), "health:check@2026-11-26T01:00:00Z"; got != want {
		t.Errorf("slotID = %q, want %q", got, want)
	}
	if slotID("health:check", b) == slotID("backup:run", b) {
		t.Error("different types share a slot ID")
	}
}

// TestEntries: every periodic task type gets its spec from its variable.
func TestEntries(t *testing.T) {
	cfg := &config.Config{HealthSchedule: "0 * * * *", BackupSchedule: "0 2 * * *",
		CleanupSchedule: "30 2 * * *", BackupVerifySchedule: "0 4 * * 0", CacheAuditSchedule: "0 3 * * *", BackupTimeout: 3 * time.Hour}
	entries, err := Entries(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Task.Type()] = e.Spec
	}
	want := map[string]string{tasks.TypeHealthCheck: "0 * * * *", tasks.TypeBackupRun: "0 2 * * *",
		tasks.TypeBackupCleanup: "30 2 * * *", tasks.TypeBackupVerify: "0 4 * * 0", tasks.TypeCacheAudit: "0 3 * * *"}
	if !maps.Equal(got, want) {
		t.Errorf("Entries = %v, want %v", got, want)
	}
}

func TestMissedSlot(t *testing.T) {
	madrid, at := zones(t)
	utc := time.UTC
	const window = 12 * time.Hour
	tests := []struct {
		name   string
		spec   string
		loc    *time.Location
		now    time.Time
		newest time.Time // zero: no backup
		want   time.Time
		ok     bool
	}{
		{"slot missed, newest backup from yesterday", "0 2 * * *", utc, at(utc, "2026-11-26 02:10:00"), at(utc, "2026-11-25 02:00:04"), at(utc, "2026-11-26 02:00:00"), true},
		{"slot missed, no backup at all", "0 2 * * *", utc, at(utc, "2026-11-26 09:00:00"), time.Time{}, at(utc, "2026-11-26 02:00:00"), true},
		{"backup after the slot", "0 2 * * *", utc, at(utc, "2026-11-26 02:10:00"), at(utc, "2026-11-26 02:00:03"), time.Time{}, false},
		{"backup exactly at the slot", "0 2 * * *", utc, at(utc, "2026-11-26 09:00:00"), at(utc, "2026-11-26 02:00:00"), time.Time{}, false},
		{"manual backup a minute before the slot does not cover it", "0 2 * * *", utc, at(utc, "2026-11-26 02:10:00"), at(utc, "2026-11-26 01:59:00"), at(utc, "2026-11-26 02:00:00"), true},
		{"slot older than the window", "0 2 * * *", utc, at(utc, "2026-11-26 14:00:01"), at(utc, "2026-11-25 02:00:04"), time.Time{}, false},
		{"slot at the window's edge", "0 2 * * *", utc, at(utc, "2026-11-26 14:00:00"), at(utc, "2026-11-25 02:00:04"), at(utc, "2026-11-26 02:00:00"), true},
		{"hourly, several missed: only the latest", "0 * * * *", utc, at(utc, "2026-11-26 10:20:00"), at(utc, "2026-11-26 05:00:10"), at(utc, "2026-11-26 10:00:00"), true},
		{"daily 02:00 in Madrid read in UTC", "0 2 * * *", madrid, at(utc, "2026-11-26 01:30:00"), at(utc, "2026-11-25 01:00:02"), at(madrid, "2026-11-26 02:00:00"), true},
		{"@every has no slots to miss", "@every 1h", utc, at(utc, "2026-11-26 10:20:00"), time.Time{}, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, err := config.ParseSchedule(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := missedSlot(sched, tt.loc, tt.now, window, tt.newest)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("missedSlot(%q, now %s, newest %s) = %s, %v; want %s, %v", tt.spec, tt.now, tt.newest, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAgeText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		26*time.Hour + 5*time.Minute: "26h",
		time.Hour:                    "1h",
		59 * time.Minute:             "59m",
		30 * time.Second:             "0m",
	} {
		if got := ageText(d); got != want {
			t.Errorf("ageText(%s) = %q, want %q", d, got, want)
		}
	}
}
