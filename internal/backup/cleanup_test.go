package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// putBackup stores a dump and (unless partial) a valid manifest for
// database db started at ts, with files last modified at ts.
func putBackup(t testing.TB, s *DirStorage, db string, ts time.Time, partial bool) string {
	t.Helper()
	ctx := context.Background()
	name := DumpName(db, ts)
	body := []byte("not really gzip: " + name)
	up, err := s.Create(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := up.Commit(); err != nil {
		t.Fatal(err)
	}
	setMtime(t, s, name, ts)
	if partial {
		return name
	}
	sum := sha256.Sum256(body)
	m := Manifest{Format: ManifestFormat, Name: name, Database: db, Engine: "fake", StartedAt: ts, FinishedAt: ts.Add(time.Second),
		RawBytes: 100, CompressedBytes: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), Tables: []TableInfo{},
		Verified: &Verification{At: ts, By: VerifiedByBackup, Size: int64(len(body)), ModTime: ts.UTC()}}
	if err := writeManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	setMtime(t, s, ManifestName(name), ts)
	return name
}

func setMtime(t testing.TB, s *DirStorage, name string, ts time.Time) {
	t.Helper()
	if err := os.Chtimes(filepath.Join(s.Dir(), name), ts, ts); err != nil {
		t.Fatal(err)
	}
}

func putFile(t testing.TB, s *DirStorage, name, body string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(s.Dir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	setMtime(t, s, name, mtime)
}

// TestCleanupOnRealFiles runs retention on a directory of real files:
// the dry run deletes nothing and reports exactly what the real run then
// deletes.
func TestCleanupOnRealFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewDirStorage(dir)
	var goods []string
	for i := range 6 { // 0, 10, 20, … 50 days old
		goods = append(goods, putBackup(t, s, "pos", now.Add(-time.Duration(i)*10*day), false))
	}
	otherOld := putBackup(t, s, "other", now.Add(-100*day), false) // the last good backup of "other"
	partialOld := putBackup(t, s, "pos", now.Add(-3*time.Hour), true)
	partialNew := putBackup(t, s, "pos", now.Add(-10*time.Minute), true)
	corruptMan := putBackup(t, s, "pos", now.Add(-2*day), true)
	putFile(t, s, ManifestName(corruptMan), "{not json", now.Add(-2*day))
	tampered := putBackup(t, s, "pos", now.Add(-3*day), false)
	putFile(t, s, tampered, "changed after the backup", now.Add(-3*day))
	orphan := ManifestName(DumpName("pos", now.Add(-70*day)))
	putFile(t, s, orphan, "{}", now.Add(-70*day))
	staleTmp := "." + DumpName("pos", now.Add(-26*time.Hour)) + ".tmp-123"
	putFile(t, s, staleTmp, "half a dump", now.Add(-26*time.Hour))
	runningTmp := "." + DumpName("pos", now.Add(-5*time.Minute)) + ".tmp-456"
	putFile(t, s, runningTmp, "a running dump", now.Add(-time.Second))
	putFile(t, s, "README.txt", "not ours", now.Add(-400*day))

	m := &Manager{Storage: s, Database: "pos", Now: func() time.Time { return now },
		Retention: Policy{RetentionDays: 30, KeepMin: 2, Grace: time.Hour}}

	l, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]Status{}
	for _, b := range l.Backups {
		status[b.Name] = b.Status
	}
	wantStatus := map[string]Status{goods[0]: StatusGood, otherOld: StatusGood, partialOld: StatusPartial,
		partialNew: StatusPartial, corruptMan: StatusCorruptManifest, tampered: StatusCorrupt}
	for n, st := range wantStatus {
		if status[n] != st {
			t.Errorf("%s: status %q, want %q", n, status[n], st)
		}
	}
	if len(l.Temps) != 2 || len(l.OrphanManifests) != 1 || len(l.Backups) != 11 {
		t.Fatalf("listing: %d backups, %d temps, %d orphans", len(l.Backups), len(l.Temps), len(l.OrphanManifests))
	}
	if !slices.IsSortedFunc(l.Backups, func(a, b Backup) int { return b.Time.Compare(a.Time) }) {
		t.Error("listing is not newest first")
	}
	if b, ok := l.Latest("pos"); !ok || b.Name != goods[0] {
		t.Errorf("Latest = %v, %v", b.Name, ok)
	}

	before := dirNames(t, dir)
	sizeBefore := map[string]int64{}
	for _, n := range before {
		sizeBefore[n] = fileSize(t, dir, n)
	}
	dry, err := m.Cleanup(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, before) {
		t.Fatalf("dry run changed the directory:\n%q\n%q", before, got)
	}
	wantDeleted := []string{goods[4], goods[5], partialOld, orphan, staleTmp} // 40 and 50 days old
	slices.Sort(wantDeleted)
	if got := decisionNames(dry.Deleted); !slices.Equal(got, wantDeleted) {
		t.Fatalf("dry run would delete %q, want %q\n%s", got, wantDeleted, fmtDecisions(dry.Decisions))
	}

	real, err := m.Cleanup(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := decisionNames(real.Deleted); !slices.Equal(got, wantDeleted) {
		t.Fatalf("cleanup deleted %q, want %q", got, wantDeleted)
	}
	if real.Freed != dry.Freed || real.Freed == 0 {
		t.Fatalf("freed %d bytes, dry run said %d", real.Freed, dry.Freed)
	}
	// What is gone is what the report freed. (Kept manifests may have
	// changed size: the cleanup records the checksums it verified.)
	after := dirNames(t, dir)
	var removed int64
	for n, size := range sizeBefore {
		if !slices.Contains(after, n) {
			removed += size
		}
	}
	if removed != real.Freed {
		t.Fatalf("the removed files had %d bytes, the report says %d", removed, real.Freed)
	}
	gone := []string{goods[4], ManifestName(goods[4]), goods[5], ManifestName(goods[5]), partialOld, orphan, staleTmp}
	for _, n := range gone {
		if slices.Contains(after, n) {
			t.Errorf("%s is still there", n)
		}
	}
	for _, n := range []string{goods[3], ManifestName(goods[3]), otherOld, ManifestName(otherOld), partialNew,
		corruptMan, tampered, runningTmp, "README.txt"} {
		if !slices.Contains(after, n) {
			t.Errorf("%s was deleted", n)
		}
	}
	again, err := m.Cleanup(ctx, false)
	if err != nil || len(again.Deleted) != 0 {
		t.Fatalf("second cleanup deleted %q (%v)", decisionNames(again.Deleted), err)
	}
}

func decisionNames(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	slices.Sort(out)
	return out
}

func fileSize(t testing.TB, dir, name string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestManifestRoundTrip(t *testing.T) {
	name := DumpName("pos", now)
	m := Manifest{Format: ManifestFormat, Name: name, Database: "pos", Engine: "native", StartedAt: now,
		FinishedAt: now.Add(time.Minute), RawBytes: 10, CompressedBytes: 5, SHA256: hex.EncodeToString(make([]byte, 32)),
		Tables: []TableInfo{{Name: "t", Rows: 3, Checksum: "ab"}}, Trigger: TriggerCLI}
	b, err := encodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeManifest(b, name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tables[0] != m.Tables[0] || !got.FinishedAt.Equal(m.FinishedAt) || got.SHA256 != m.SHA256 {
		t.Fatalf("round trip: %+v", got)
	}
	bad := map[string][]byte{
		"other name":     b,
		"format 2":       bytes.Replace(b, []byte(`"format": 1`), []byte(`"format": 2`), 1),
		"not a manifest": []byte(`{"format":1,"surprise":true}`),
		"trailing data":  append(slices.Clone(b), []byte(`{}`)...),
		"empty":          nil,
		"wrong database": []byte(string(b)),
	}
	for what, data := range bad {
		n := name
		switch what {
		case "other name":
			n = DumpName("pos", now.Add(time.Second))
		case "wrong database":
			n = DumpName("pos2", now)
		}
		if _, err := decodeManifest(data, n); err == nil {
			t.Errorf("%s: decoded", what)
		}
	}
}

func TestTailWriter(t *testing.T) {
	tests := []struct {
		chunks  []string
		last    string
		trailer bool
	}{
		{[]string{"a;\n", "-- Dump completed on 2025-01-01 00:00:00\n"}, "-- Dump completed on 2025-01-01 00:00:00", true},
		{[]string{"a;\n-- Dump completed\r\n\n\n"}, "-- Dump completed", true},
		{[]string{"-- Dump completed\nINSERT INTO t VALUES (1);\n"}, "INSERT INTO t VALUES (1);", false},
		{[]string{"-- Dump comp"}, "-- Dump comp", false},
		{[]string{""}, "", false},
		{[]string{string(make([]byte, 3*tailLen)), "\n-- Dump completed\n"}, "-- Dump completed", true},
	}
	for i, tt := range tests {
		w := &tailWriter{}
		for _, c := range tt.chunks {
			_, _ = io.WriteString(w, c)
		}
		if w.lastLine() != tt.last || w.endsWithTrailer() != tt.trailer {
			t.Errorf("case %d: lastLine %q trailer %v", i, w.lastLine(), w.endsWithTrailer())
		}
	}
}

// TestCleanupTrustsOnlyVerified: a newer backup whose file was changed
// without changing its size never makes retention delete an older good
// one — whether the change shows in the file's modification time (it is
// then unverified and read again) or not (a disk fault: the kept backups
// are read again before anything good is deleted).
func TestCleanupTrustsOnlyVerified(t *testing.T) {
	tests := []struct {
		name        string
		alter       bool // rewrite the newer dump, same size
		keepMtime   bool // and put its old modification time back
		touch       bool // only change its modification time
		wantOld     bool // the old backup is kept
		wantNew     Status
		wantNewByBy string // Verified.By of the newer one afterwards
	}{
		{name: "nothing changed: the old one goes", wantOld: false, wantNew: StatusGood, wantNewByBy: VerifiedByCleanup},
		{name: "changed in place", alter: true, wantOld: true, wantNew: StatusCorrupt},
		{name: "changed with the old mtime put back", alter: true, keepMtime: true, wantOld: true, wantNew: StatusCorrupt},
		{name: "only touched: read again, good", touch: true, wantOld: false, wantNew: StatusGood, wantNewByBy: VerifiedByCleanup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := NewDirStorage(t.TempDir())
			oldName := putBackup(t, s, "pos", now.Add(-20*day), false)
			newTime := now.Add(-day)
			newName := putBackup(t, s, "pos", newTime, false)
			path := filepath.Join(s.Dir(), newName)
			if tt.alter {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)-1] ^= 0x01
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.touch || (tt.alter && !tt.keepMtime) {
				setMtime(t, s, newName, now.Add(-time.Hour))
			}
			if tt.keepMtime {
				setMtime(t, s, newName, newTime)
			}
			m := &Manager{Storage: s, Database: "pos", Now: func() time.Time { return now },
				Retention: Policy{RetentionDays: 5, KeepMin: 1}}

			dry, err := m.Cleanup(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := m.Cleanup(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(dry.Deleted), names(rep.Deleted)) {
				t.Errorf("dry run would delete %v, the cleanup deleted %v", names(dry.Deleted), names(rep.Deleted))
			}
			l, err := m.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, oldKept := l.Find(oldName)
			if oldKept != tt.wantOld {
				t.Errorf("old backup kept %v, want %v; decisions %+v", oldKept, tt.wantOld, rep.Decisions)
			}
			if oldKept {
				if b, _ := l.Find(oldName); !b.Good() {
					t.Errorf("the kept old backup is %s (%s), want good", b.Status, b.Problem)
				}
			}
			nb, ok := l.Find(newName)
			if !ok {
				t.Fatal("the newer backup was deleted")
			}
			// A corrupt file is never re-verified: it stays corrupt on the
			// next listing only through its size or mtime, so check the
			// cleanup's own view for it.
			got := nb.Status
			for _, d := range rep.Decisions {
				if d.Name == newName {
					got = d.Status
				}
			}
			if got != tt.wantNew {
				t.Errorf("newer backup is %s, want %s", got, tt.wantNew)
			}
			if tt.wantNewByBy != "" && (nb.Manifest == nil || nb.Manifest.Verified == nil || nb.Manifest.Verified.By != tt.wantNewByBy || !nb.Good()) {
				t.Errorf("newer backup after cleanup: %s, manifest %+v", nb.Status, nb.Manifest)
			}
		})
	}
}

func names(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

// unreadable is a storage whose dump bad cannot be read.
type unreadable struct {
	*DirStorage
	bad string
}

func (s unreadable) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if name == s.bad {
		return nil, errors.New("input/output error")
	}
	return s.DirStorage.Open(ctx, name)
}

// TestCleanupGoesOnPastAnUnreadableBackup: a backup that cannot be read
// again does not stop the cleanup: it counts as not good (so an older good
// backup is kept in its place), the rest is cleaned, and the error says
// which file.
func TestCleanupGoesOnPastAnUnreadableBackup(t *testing.T) {
	ctx := context.Background()
	dir := NewDirStorage(t.TempDir())
	oldest := putBackup(t, dir, "pos", now.Add(-30*day), false)
	older := putBackup(t, dir, "pos", now.Add(-20*day), false)
	newest := putBackup(t, dir, "pos", now.Add(-day), false)
	setMtime(t, dir, newest, now.Add(-time.Hour)) // modified: to be read again
	m := &Manager{Storage: unreadable{DirStorage: dir, bad: newest}, Database: "pos", Now: func() time.Time { return now },
		Retention: Policy{RetentionDays: 5, KeepMin: 1}}
	rep, err := m.Cleanup(ctx, false)
	if err == nil || !strings.Contains(err.Error(), newest) || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("error %v, want one naming %s", err, newest)
	}
	if got := names(rep.Deleted); !slices.Equal(got, []string{oldest}) {
		t.Errorf("deleted %v, want only %s (the older good one stays in place of the unreadable newest)", got, oldest)
	}
	l, _ := m.List(ctx)
	if b, ok := l.Find(older); !ok || !b.Good() {
		t.Errorf("%s: %+v", older, b)
	}
}
