package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// fakeBackups is the storage's answer to "newest good backup": set
// newest, or leave it zero for none. calls counts the questions.
type fakeBackups struct {
	mu     sync.Mutex
	newest time.Time
	calls  int
}

func (f *fakeBackups) Latest(context.Context) (backup.Backup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.newest.IsZero() {
		return backup.Backup{}, fmt.Errorf("no good backup of pos: %w", backup.ErrNotFound)
	}
	return backup.Backup{Name: "pos-x.sql.gz", Time: f.newest.Truncate(time.Second), Status: backup.StatusGood,
		Manifest: &backup.Manifest{Database: "pos", StartedAt: f.newest}}, nil
}

func (f *fakeBackups) set(newest time.Time) {
	f.mu.Lock()
	f.newest = newest
	f.mu.Unlock()
}

func (f *fakeBackups) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// The fake clock is years before the real one, so a slot that the real
// clock fires during a test is never mistaken for the fake night's.
var (
	fakeNow  = time.Date(2020, 1, 15, 2, 10, 0, 0, time.UTC)
	fakeSlot = time.Date(2020, 1, 15, 2, 0, 0, 0, time.UTC)
)

func backupEntries(t *testing.T) []Entry {
	t.Helper()
	task, err := tasks.New(tasks.BackupRun{}, tasks.Limits{BackupTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return []Entry{{Spec: "0 2 * * *", Task: task}}
}

// fakeNightBackups returns the IDs of the backup:run tasks in Redis whose
// slot is on the fake clock's side of the years.
func (h *harness) fakeNightBackups() []string {
	h.t.Helper()
	var ids []string
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){h.insp.ListPendingTasks, h.insp.ListActiveTasks, h.insp.ListCompletedTasks} {
		infos, err := list(tasks.QueueCritical, asynq.PageSize(1000))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return nil
		}
		if err != nil {
			h.t.Fatal(err)
		}
		for _, ti := range infos {
			at, ok := strings.CutPrefix(ti.ID, tasks.TypeBackupRun+"@")
			if !ok {
				continue
			}
			if slot, err := time.Parse(time.RFC3339, at); err == nil && slot.Year() < 2021 {
				ids = append(ids, ti.ID)
			}
		}
	}
	return ids
}

// logged reports whether one log line holds every part.
func (h *harness) logged(parts ...string) bool {
	for line := range strings.Lines(h.logs.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestMissedBackupSlotCaughtUpOnce: no scheduler ran at 02:00; at 02:10 a
// leader comes back, finds the newest backup 26 h old and enqueues one
// catch-up for the 02:00 slot. Another leader taking over finds the slot's
// task and enqueues nothing.
func TestMissedBackupSlotCaughtUpOnce(t *testing.T) {
	h := newHarness(t)
	backups := &fakeBackups{newest: fakeNow.Add(-26*time.Hour - 5*time.Minute)}
	opts := Options{Backups: backups, Now: func() time.Time { return fakeNow }}
	stopA := h.startWith("a", backupEntries(t), opts)
	testenv.Eventually(t, 30*time.Second, "catch-up backup enqueued", func() bool { return len(h.fakeNightBackups()) > 0 })
	if !h.logged("instance=a", "backup slot 02:00 missed (newest backup 26h old): catch-up enqueued", "task_id="+slotID(tasks.TypeBackupRun, fakeSlot)) {
		t.Errorf("no catch-up log saying why:\n%s", h.logs.String())
	}
	stopA()

	h.startWith("b", backupEntries(t), opts)
	testenv.Eventually(t, 30*time.Second, "second leader finds the slot enqueued", func() bool {
		return h.logged("instance=b", "backup slot already enqueued")
	})
	ids := h.fakeNightBackups()
	if want := slotID(tasks.TypeBackupRun, fakeSlot); len(ids) != 1 || ids[0] != want {
		t.Errorf("backup tasks for the missed night = %v, want exactly [%s]", ids, want)
	}
	if n := strings.Count(h.logs.String(), "catch-up enqueued"); n != 1 {
		t.Errorf("%d catch-ups logged, want 1:\n%s", n, h.logs.String())
	}
}

// TestBackupCheckRepeatsWhileLeading: a leader keeps checking; nothing is
// enqueued while a backup covers the slot, and the catch-up comes at the
// next check once none does (storage emptied).
func TestBackupCheckRepeatsWhileLeading(t *testing.T) {
	h := newHarness(t)
	backups := &fakeBackups{newest: fakeSlot.Add(3 * time.Second)}
	h.startWith("a", backupEntries(t), Options{Backups: backups, BackupCheckEvery: 50 * time.Millisecond,
		Now: func() time.Time { return fakeNow }})
	testenv.Eventually(t, 30*time.Second, "three checks", func() bool { return backups.count() >= 3 })
	if ids := h.fakeNightBackups(); len(ids) != 0 {
		t.Fatalf("catch-up enqueued although a backup covers the slot: %v", ids)
	}
	backups.set(time.Time{})
	testenv.Eventually(t, 30*time.Second, "catch-up at a later check", func() bool { return len(h.fakeNightBackups()) == 1 })
	if !h.logged("backup slot 02:00 missed (no backup yet): catch-up enqueued") {
		t.Errorf("no catch-up log saying why:\n%s", h.logs.String())
	}
}
