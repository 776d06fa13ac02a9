package backup_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
)

// twoDestinations gives m a second destination, "s3", on a directory of its
// own, wrapped by wrap (nil: as is). The first keeps the name "file".
func twoDestinations(t *testing.T, m *backup.Manager, wrap func(backup.Storage) backup.Storage) (first, second *backup.DirStorage) {
	t.Helper()
	first = m.Storage.(*backup.DirStorage)
	second = backup.NewDirStorage(t.TempDir())
	var s backup.Storage = second
	if wrap != nil {
		s = wrap(second)
	}
	m.Destinations = []backup.Destination{
		{Name: "file", Where: "file://" + first.Dir(), Storage: first},
		{Name: "s3", Where: "s3://bucket/prefix", Storage: s},
	}
	return first, second
}

func goodNames(t *testing.T, m *backup.Manager, dest string) []string {
	t.Helper()
	dm, err := m.On(dest)
	if err != nil {
		t.Fatal(err)
	}
	l, err := dm.List(context.Background())
	if err != nil {
		t.Fatalf("list %s: %v", dest, err)
	}
	var out []string
	for _, b := range l.Backups {
		if b.Good() {
			out = append(out, b.Name)
		} else {
			t.Errorf("%s: %s is %s (%s)", dest, b.Name, b.Status, b.Problem)
		}
	}
	return out
}

// TestRunWritesEveryDestination: one dump, the same bytes and a verified
// manifest in each destination, listed by ListAll with its destination.
func TestRunWritesEveryDestination(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	m.Engine = &fakeEngine{db: m.Database, big: true}
	first, second := twoDestinations(t, m, nil)
	man, err := m.Run(ctx, backup.RunOptions{Trigger: backup.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	a, b := snapshot(t, first.Dir()), snapshot(t, second.Dir())
	if a[man.Name] == "" || a[man.Name] != b[man.Name] {
		t.Errorf("the dump differs between destinations or is missing: %v / %v", a, b)
	}
	for _, d := range []string{"file", "s3"} {
		if got := goodNames(t, m, d); !slices.Equal(got, []string{man.Name}) {
			t.Errorf("%s holds %v, want [%s]", d, got, man.Name)
		}
	}
	l, err := m.ListAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dests []string
	for _, b := range l.Backups {
		dests = append(dests, b.Destination+":"+b.Name)
	}
	if want := []string{"file:" + man.Name, "s3:" + man.Name}; !slices.Equal(dests, want) {
		t.Errorf("ListAll = %v, want %v", dests, want)
	}
}

// TestRunOneDestinationFails: the second destination's disk fills half
// way (and, in another case, it cannot even be listed). The first still
// gets a complete, verified backup; Run returns its manifest with a
// PartialError naming the destination that failed and why; nothing is
// left under the final name there. Copy then completes it without a new
// dump, and CleanupAll decides each destination from its own listing.
func TestRunOneDestinationFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(backup.Storage) backup.Storage
		want string
	}{
		{"disk full half way", func(s backup.Storage) backup.Storage { return &fullDisk{Storage: s, limit: 300 << 10} }, "no space left"},
		{"unreachable", func(s backup.Storage) backup.Storage { return unlistable{s} }, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m, _ := newManager(t)
			m.Engine = &fakeEngine{db: m.Database, big: true}
			_, second := twoDestinations(t, m, tc.wrap)
			man, err := m.Run(ctx, backup.RunOptions{Trigger: backup.TriggerCLI})
			var pe *backup.PartialError
			if !errors.As(err, &pe) {
				t.Fatalf("Run: %v, want a PartialError", err)
			}
			if !slices.Equal(pe.Stored, []string{"file"}) || !slices.Equal(pe.FailedDestinations(), []string{"s3"}) {
				t.Errorf("stored %v, failed %v", pe.Stored, pe.FailedDestinations())
			}
			for _, w := range []string{"s3 (s3://bucket/prefix)", tc.want, man.Name} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
			if man.Name == "" || man.Verified == nil {
				t.Fatalf("no verified manifest returned with the partial failure: %+v", man)
			}
			if got := goodNames(t, m, "file"); !slices.Equal(got, []string{man.Name}) {
				t.Errorf("file holds %v", got)
			}
			for name := range snapshot(t, second.Dir()) {
				if name == man.Name || name == man.Name+".json" {
					t.Errorf("the failed destination has %s under its final name", name)
				}
			}

			// The destination comes back: the backup is copied, not dumped again.
			m.Destinations[1].Storage = second
			m.Engine = &fakeEngine{db: m.Database, failAfter: 1}
			if _, err := m.Copy(ctx, man.Name, m.Destinations[0], m.Destinations[1]); err != nil {
				t.Fatalf("Copy: %v", err)
			}
			if got := goodNames(t, m, "s3"); !slices.Equal(got, []string{man.Name}) {
				t.Errorf("s3 holds %v after the copy", got)
			}
			if _, err := m.Copy(ctx, man.Name, m.Destinations[0], m.Destinations[1]); err == nil || !strings.Contains(err.Error(), "already there") {
				t.Errorf("a second Copy: %v, want \"already there\"", err)
			}

			// Retention per destination: a second backup only in file; a
			// year later KeepMin=1 keeps file's newest and s3's only one.
			m.Destinations = m.Destinations[:1]
			m.Engine = &fakeEngine{db: m.Database}
			man2, err := m.Run(ctx, backup.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m.Destinations = []backup.Destination{m.Destinations[0], {Name: "s3", Where: "s3://bucket/prefix", Storage: second}}
			m.Retention = backup.Policy{RetentionDays: 1, KeepMin: 1}
			m.Now = func() time.Time { return man2.StartedAt.Add(365 * 24 * time.Hour) }
			rep, err := m.CleanupAll(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			var deleted []string
			for _, d := range rep.Deleted {
				deleted = append(deleted, d.Destination+":"+d.Name)
			}
			if want := []string{"file:" + man.Name}; !slices.Equal(deleted, want) {
				t.Errorf("deleted %v, want %v", deleted, want)
			}
			if got := goodNames(t, m, "s3"); !slices.Equal(got, []string{man.Name}) {
				t.Errorf("s3 holds %v after cleanup, want its only (last verified) copy", got)
			}
		})
	}
}

// TestRunEveryDestinationFails: nothing stored anywhere, each destination
// named with its reason.
func TestRunEveryDestinationFails(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	m.Engine = &fakeEngine{db: m.Database, big: true}
	first, _ := twoDestinations(t, m, func(s backup.Storage) backup.Storage { return unlistable{s} })
	m.Destinations[0].Storage = &fullDisk{Storage: first, limit: 100 << 10}
	_, err := m.Run(ctx, backup.RunOptions{})
	var pe *backup.PartialError
	if err == nil || errors.As(err, &pe) {
		t.Fatalf("Run: %v, want a failure with nothing stored", err)
	}
	for _, w := range []string{"nothing was stored in any destination", "file", "no space left", "s3 (s3://bucket/prefix)", "connection refused"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q: %v", w, err)
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("the error does not wrap ENOSPC: %v", err)
	}
	if s := snapshot(t, first.Dir()); len(s) != 0 {
		t.Errorf("files left: %v", s)
	}
}

// TestOnAndLocate: --storage names a destination; an unknown one lists the
// known; Locate finds the first destination holding a backup.
func TestOnAndLocate(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	_, second := twoDestinations(t, m, nil)
	m.Destinations = m.Destinations[1:] // make the backup in s3 only
	man, err := m.Run(ctx, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	twoDestinations(t, m, nil)
	m.Destinations[1].Storage = second
	got, err := m.Locate(ctx, man.Name)
	if err != nil || got.Dests()[0].Name != "s3" {
		t.Fatalf("Locate = %v, %v; want the s3 destination", got, err)
	}
	if _, err := m.Locate(ctx, "x-20250101T000000Z.sql.gz"); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("Locate of a missing backup: %v", err)
	}
	if _, err := m.On("b2"); !errors.Is(err, backup.ErrUnknownDestination) || !strings.Contains(err.Error(), "file, s3") {
		t.Errorf("On(b2): %v", err)
	}
}

// unlistable is a destination whose server refuses connections.
type unlistable struct{ backup.Storage }

var errRefused = errors.New("dial tcp 127.0.0.1:9: connect: connection refused")

func (unlistable) List(context.Context) ([]backup.Object, error) { return nil, errRefused }
func (unlistable) Stat(context.Context, string) (backup.Object, error) {
	return backup.Object{}, errRefused
}
func (unlistable) Create(context.Context, string) (backup.Upload, error) { return nil, errRefused }
