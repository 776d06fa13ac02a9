package worker

import (
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/tasks"
)

func TestRequestTime(t *testing.T) {
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		p      tasks.BackupRun
		taskID string
		want   time.Time
	}{
		{"payload wins", tasks.BackupRun{RequestedAt: at.Add(time.Hour)}, "backup:run@2026-11-26T02:00:00Z", at.Add(time.Hour)},
		{"scheduled slot", tasks.BackupRun{}, "backup:run@2026-11-26T02:00:00Z", at},
		{"no slot in the ID", tasks.BackupRun{}, "0f3c9a", time.Time{}},
		{"not a time after @", tasks.BackupRun{}, "backup:run@tonight", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := requestTime(tt.p, tt.taskID); !got.Equal(tt.want) {
				t.Errorf("requestTime = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFulfilledSince(t *testing.T) {
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	b := func(name, db string, start time.Time, st backup.Status) backup.Backup {
		return backup.Backup{Name: name, Status: st, Manifest: &backup.Manifest{Database: db, StartedAt: start}}
	}
	l := backup.Listing{Backups: []backup.Backup{
		b("newest-unverified", "pos", at.Add(2*time.Hour), backup.StatusUnverified),
		b("other-db", "other", at.Add(time.Hour), backup.StatusGood),
		b("good-after", "pos", at.Add(time.Minute), backup.StatusGood),
		b("good-before", "pos", at.Add(-time.Hour), backup.StatusGood),
	}}
	tests := []struct {
		since time.Time
		want  string
	}{
		{at, "good-after"},
		{at.Add(time.Minute), "good-after"},
		{at.Add(90 * time.Minute), ""}, // only an unverified one and another database's are newer
		{at.Add(-2 * time.Hour), "good-after"},
	}
	for _, tt := range tests {
		got, ok := fulfilledSince(l, "pos", tt.since)
		if ok != (tt.want != "") || got.Name != tt.want {
			t.Errorf("fulfilledSince(%s) = %q, %v; want %q", tt.since, got.Name, ok, tt.want)
		}
	}
}
