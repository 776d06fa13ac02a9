package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// watchedStorage is a DirStorage that counts how often dumps are opened
// and how many bytes are read from them, and runs onRewind when a dump's
// handle is rewound to its start (between Restore's check and its load).
// With noSeek its dumps cannot seek, as an object store's would.
type watchedStorage struct {
	*backup.DirStorage
	noSeek   bool
	onRewind func()

	mu    sync.Mutex
	opens int
	read  int64
}

func (s *watchedStorage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	r, err := s.DirStorage.Open(ctx, name)
	if err != nil || strings.HasSuffix(name, backup.ManifestExt) {
		return r, err
	}
	s.mu.Lock()
	s.opens++
	s.mu.Unlock()
	f := &watchedFile{File: r.(*os.File), s: s}
	if s.noSeek {
		return struct {
			io.Reader
			io.Closer
		}{f, f}, nil
	}
	return f, nil
}

func (s *watchedStorage) counts() (opens int, read int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens, s.read
}

type watchedFile struct {
	*os.File
	s *watchedStorage
}

func (f *watchedFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.s.mu.Lock()
	f.s.read += int64(n)
	f.s.mu.Unlock()
	return n, err
}

func (f *watchedFile) Seek(off int64, whence int) (int64, error) {
	if off == 0 && whence == io.SeekStart && f.s.onRewind != nil {
		f.s.onRewind()
	}
	return f.File.Seek(off, whence)
}

// watch puts a watchedStorage on m's directory.
func watch(m *backup.Manager) *watchedStorage {
	s := &watchedStorage{DirStorage: backup.NewDirStorage(dirOf(m))}
	m.Storage = s
	return s
}

// backedUp is newManager with one backup made.
func backedUp(t *testing.T) (*backup.Manager, backup.Manifest, testenv.MySQLServer) {
	t.Helper()
	m, srv := newManager(t)
	man, err := m.Run(context.Background(), backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m, man, srv
}

// TestRestoreRefusesSystemDatabases: the server's own schemas, in any
// case, are refused as restore targets before the backup file is even
// opened, and keep every table.
func TestRestoreRefusesSystemDatabases(t *testing.T) {
	ctx := context.Background()
	m, man, _ := backedUp(t)
	ws := watch(m)
	for _, target := range []string{"mysql", "MySQL", "sys", "SYS", "performance_schema", "Performance_Schema", "information_schema", "INFORMATION_SCHEMA"} {
		t.Run(target, func(t *testing.T) {
			before := testenv.SchemaTables(t, m.DB, strings.ToLower(target))
			if before == 0 {
				t.Fatalf("schema %s has no tables on this server: the test would prove nothing", target)
			}
			_, err := m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target, Replace: true, Confirm: func(backup.RestorePlan) bool {
				t.Error("Confirm was called for a system schema")
				return true
			}})
			if !errors.Is(err, backup.ErrSystemDatabase) {
				t.Fatalf("Restore into %s: %v, want ErrSystemDatabase", target, err)
			}
			if _, err := m.Inspect(ctx, man.Name, target); !errors.Is(err, backup.ErrSystemDatabase) {
				t.Errorf("Inspect of %s: %v, want ErrSystemDatabase", target, err)
			}
			if after := testenv.SchemaTables(t, m.DB, strings.ToLower(target)); after != before {
				t.Errorf("%s had %d tables, now %d", target, before, after)
			}
		})
	}
	if opens, _ := ws.counts(); opens != 0 {
		t.Errorf("the dump was opened %d times; a system schema must be refused first", opens)
	}
}

func TestValidateTarget(t *testing.T) {
	for _, tt := range []struct {
		name   string
		system bool
		ok     bool
	}{
		{"cantina", false, true},
		{"mysql_copy", false, true},
		{"sys2", false, true},
		{"mysql", true, false},
		{"MYSQL", true, false},
		{"Sys", true, false},
		{"information_schema", true, false},
		{"performance_SCHEMA", true, false},
		{"", false, false},
		{"mysql ", false, false},
		{strings.Repeat("a", 65), false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := backup.ValidateTarget(tt.name)
			if (err == nil) != tt.ok || errors.Is(err, backup.ErrSystemDatabase) != tt.system {
				t.Errorf("ValidateTarget(%q) = %v", tt.name, err)
			}
		})
	}
}

// gzipBomb is members concatenated gzip members of 1 MiB of zeros each: a
// file of about members KiB that inflates to members MiB.
func gzipBomb(t *testing.T, members int) []byte {
	t.Helper()
	var one bytes.Buffer
	zw, err := gzip.NewWriterLevel(&one, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(one.Bytes(), members)
}

// writeBackup stores data as dump name in dir with a manifest that matches
// it in everything but the raw size, which it gives as raw.
func writeBackup(t *testing.T, dir, database, name string, data []byte, raw int64) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	at := time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC)
	man := backup.Manifest{Format: backup.ManifestFormat, Name: name, Database: database, Engine: "fake",
		StartedAt: at, FinishedAt: at.Add(time.Second), RawBytes: raw, CompressedBytes: int64(len(data)),
		Compression: "gzip", SHA256: hex.EncodeToString(sum[:]), Tables: []backup.TableInfo{{Name: "items", Rows: 1}}}
	b, err := json.Marshal(man)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, backup.ManifestName(name)), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestGzipBombFailsFast: a file whose manifest says 1 KiB of SQL but which
// inflates to 8 GiB of zeros is refused by Verify and Restore once 1 KiB
// of SQL has come out, with an error that says why.
func TestGzipBombFailsFast(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	bomb := gzipBomb(t, 8192)
	name := backup.DumpName(m.Database, time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC))
	writeBackup(t, dirOf(m), m.Database, name, bomb, 1024)
	const says = "the dump inflates to more SQL than expected: more than the 1024 bytes its manifest says"

	rep, err := m.Verify(ctx, name, false)
	if !errors.Is(err, backup.ErrVerifyFailed) || !strings.Contains(err.Error(), says) {
		t.Fatalf("Verify: %v", err)
	}
	// RawBytes counts the SQL that came out of the decompressor.
	if rep.RawBytes > 1024 || rep.RawBytes < 1000 {
		t.Errorf("the check inflated %d bytes of SQL; the manifest says 1024", rep.RawBytes)
	}
	if len(rep.Problems) != 1 {
		t.Errorf("problems: %q (the checksum and sizes match the manifest)", rep.Problems)
	}
	t.Logf("Verify inflated %d bytes of a %d-byte file: %v", rep.RawBytes, len(bomb), err)

	// A fresh target: the load stops at the manifest's size, and the
	// database it created is dropped.
	target := m.Database + "_bomb"
	_, err = m.Restore(ctx, name, backup.RestoreOptions{Database: target})
	if !errors.Is(err, backup.ErrVerifyFailed) || !strings.Contains(err.Error(), says) {
		t.Fatalf("Restore: %v", err)
	}
	assertNoDatabase(t, m, target)

	// A database to replace: refused by the full check before anything
	// changes.
	target = m.Database + "_keep"
	dropLater(t, m.DB, target)
	for _, q := range []string{"CREATE DATABASE `" + target + "`", "CREATE TABLE `" + target + "`.`keep` (id INT)"} {
		if _, err := m.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_, err = m.Restore(ctx, name, backup.RestoreOptions{Database: target, Replace: true})
	if !errors.Is(err, backup.ErrVerifyFailed) || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), "refusing to restore") {
		t.Fatalf("Restore over a database: %v", err)
	}
	if st, err := m.Target(ctx, target); err != nil || strings.Join(st.Objects, ",") != "keep" {
		t.Errorf("the target holds %q (%v), want its table untouched", st.Objects, err)
	}
}

// TestRestoreLoadsTheCheckedHandle: Restore opens the dump once; the
// handle it checked is the one it loads. A file renamed over the dump
// between the check and the load is not loaded; a file changed in place
// is caught (bounded by the checked size, then by its sha256).
func TestRestoreLoadsTheCheckedHandle(t *testing.T) {
	ctx := context.Background()
	m, man, _ := backedUp(t)
	dir := dirOf(m)
	path := filepath.Join(dir, man.Name)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evilSQL := []byte("CREATE TABLE `evil` (id INT);\n-- Dump completed on 2025-06-15 12:00:00\n")
	evil := gzipBytes(t, evilSQL)
	ws := watch(m)
	restore := func(t *testing.T, suffix string) (string, error) {
		t.Helper()
		target := m.Database + "_" + suffix
		dropLater(t, m.DB, target)
		_, err := m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target})
		return target, err
	}

	t.Run("renamed over", func(t *testing.T) {
		if err := os.WriteFile(path, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		ws.onRewind = func() {
			other := filepath.Join(dir, "swap")
			if err := os.WriteFile(other, evil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}
		opens, _ := ws.counts()
		target, err := restore(t, "renamed")
		if err != nil {
			t.Fatal(err)
		}
		if now, _ := ws.counts(); now-opens != 1 {
			t.Errorf("the dump was opened %d times", now-opens)
		}
		st, err := m.Target(ctx, target)
		if err != nil || strings.Join(st.Objects, ",") != "items" {
			t.Errorf("restored %q (%v), want the checked file's items", st.Objects, err)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, evil) {
			t.Fatal("the file was not swapped: the test proves nothing")
		}
	})
	t.Run("bomb written in place", func(t *testing.T) {
		if err := os.WriteFile(path, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		bomb := gzipBomb(t, 64)
		ws.onRewind = func() {
			if err := os.WriteFile(path, bomb, 0o600); err != nil { // same inode
				t.Fatal(err)
			}
		}
		// Into a fresh target (checked by its sha256 only): the database
		// the restore created is dropped again.
		target, err := restore(t, "bomb")
		if !errors.Is(err, backup.ErrTooLarge) || !errors.Is(err, backup.ErrVerifyFailed) || !strings.Contains(err.Error(), "nothing of it was kept") {
			t.Fatalf("Restore: %v, want ErrTooLarge, nothing kept", err)
		}
		t.Logf("Restore says: %v", err)
		assertNoDatabase(t, m, target)

		// Into a database it replaces (checked in full first): nothing of
		// the bomb was loaded, the target holds only the mark that its
		// restore did not finish.
		if err := os.WriteFile(path, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		target = m.Database + "_bomb_replace"
		dropLater(t, m.DB, target)
		if _, err := m.DB.ExecContext(ctx, "CREATE DATABASE `"+target+"`"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.DB.ExecContext(ctx, "CREATE TABLE `"+target+"`.`old` (id INT)"); err != nil {
			t.Fatal(err)
		}
		_, err = m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target, Replace: true})
		if !errors.Is(err, backup.ErrTooLarge) || strings.Contains(err.Error(), "nothing of it was kept") {
			t.Fatalf("Restore over a database: %v, want ErrTooLarge, the partial copy marked", err)
		}
		if st, _ := m.Target(ctx, target); len(st.Objects) != 1 || st.Interrupted != man.Name {
			t.Errorf("the target holds %q, interrupted restore %q", st.Objects, st.Interrupted)
		}
	})
	t.Run("other dump written in place", func(t *testing.T) {
		if err := os.WriteFile(path, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		ws.onRewind = func() {
			if err := os.WriteFile(path, evil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, err := restore(t, "changed")
		if !errors.Is(err, backup.ErrVerifyFailed) || !strings.Contains(err.Error(), "the file changed while it was loaded") {
			t.Fatalf("Restore: %v, want the file reported as changed", err)
		}
	})
}

// TestRestoreSpoolsUnseekableFiles: a storage whose reader cannot seek
// (an object store) has the dump copied to a temporary file, which is
// checked, loaded and removed.
func TestRestoreSpoolsUnseekableFiles(t *testing.T) {
	ctx := context.Background()
	m, man, _ := backedUp(t)
	ws := watch(m)
	ws.noSeek = true
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	target := m.Database + "_spooled"
	dropLater(t, m.DB, target)
	res, err := m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Stats.Statements == 0 {
		t.Errorf("restore result: %+v", res)
	}
	if opens, _ := ws.counts(); opens != 1 {
		t.Errorf("the dump was opened %d times", opens)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the spooled copy is still there: %v", left)
	}
}

// TestRestorePlan: Confirm sees the checked backup and the target's state
// before anything changes; saying no changes nothing.
func TestRestorePlan(t *testing.T) {
	ctx := context.Background()
	m, man, srv := backedUp(t)
	_, target := testenv.MySQLDatabase(t)
	tdb := srv.Open(t, target)
	for _, q := range []string{"CREATE TABLE a (id INT PRIMARY KEY, v LONGTEXT)", "INSERT INTO a SELECT seq, REPEAT('x', 1000) FROM seq_1_to_2000", "ANALYZE TABLE a", "CREATE TABLE b (id INT)", "CREATE VIEW v AS SELECT id FROM a"} {
		if _, err := tdb.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var plan backup.RestorePlan
	_, err := m.Restore(ctx, man.Name, backup.RestoreOptions{Database: target, Replace: true, Confirm: func(p backup.RestorePlan) bool {
		plan = p
		return false
	}})
	if !errors.Is(err, backup.ErrRestoreCancelled) {
		t.Fatalf("Restore: %v, want ErrRestoreCancelled", err)
	}
	if plan.Backup.Name != man.Name || !plan.Verified || plan.RawBytes != man.RawBytes || len(plan.Warnings) != 0 || plan.Database != target {
		t.Errorf("plan: %+v", plan)
	}
	if st := plan.Target; !st.Exists || st.Tables != 2 || len(st.Objects) != 3 || st.Bytes < 1<<20 {
		t.Errorf("target state: %+v", st)
	}
	if st, _ := m.Target(ctx, target); strings.Join(st.Objects, ",") != "a,b,v" {
		t.Errorf("after a no, the target holds %q", st.Objects)
	}

	// The same plan, from Inspect, before the file is read.
	ip, err := m.Inspect(ctx, man.Name, target)
	if err != nil || ip.Verified || ip.Target.Tables != 2 || ip.Backup.Status != backup.StatusGood {
		t.Errorf("Inspect = %+v, %v", ip, err)
	}
	if err := os.Remove(filepath.Join(dirOf(m), backup.ManifestName(man.Name))); err != nil {
		t.Fatal(err)
	}
	ip, err = m.Inspect(ctx, man.Name, target)
	if err != nil || len(ip.Warnings) != 1 || !strings.Contains(ip.Warnings[0], "no manifest") {
		t.Errorf("Inspect without a manifest = %+v, %v", ip, err)
	}
}

var scratchRE = regexp.MustCompile(`^cantina_drill_[A-Za-z0-9_-]*_[0-9]{14}_[0-9a-f]{8}$`)

// TestDrillDropsLeftoverScratch: the restore drill's scratch database has
// a recognisable name with its start time, and the next drill drops the
// ones a killed worker left behind, once older than the grace period.
func TestDrillDropsLeftoverScratch(t *testing.T) {
	ctx := context.Background()
	m, man, _ := backedUp(t)
	// Every drill and cleanup drops every old leftover on its server, and
	// this test's DropLeftoverScratch(0) would drop the drills of other
	// packages: its scratch databases are on a server of its own.
	m.DB = testenv.PrivateMySQL(t).Open(t, "")
	m.ScratchGrace = time.Hour
	now := time.Now().UTC().Format("20060102150405")
	old := "cantina_drill_" + m.Database + "_20200101000000_0badcafe"
	recent := "cantina_drill_" + m.Database + "_" + now + "_00c0ffee"
	notOurs := "cantina_drill_" + m.Database + "_keep"
	for _, db := range []string{old, recent, notOurs} {
		if _, err := m.DB.Exec("CREATE DATABASE `" + db + "`"); err != nil {
			t.Fatal(err)
		}
		dropLater(t, m.DB, db)
	}
	rep, err := m.Verify(ctx, man.Name, true)
	if err != nil {
		t.Fatal(err)
	}
	if !scratchRE.MatchString(rep.ScratchDatabase) || len(rep.ScratchDatabase) > 64 || !strings.Contains(rep.ScratchDatabase, m.Database) {
		t.Errorf("scratch database %q is not recognisable", rep.ScratchDatabase)
	}
	assertNoDatabase(t, m, rep.ScratchDatabase)
	assertNoDatabase(t, m, old)
	if !strings.Contains(strings.Join(rep.Notes, "\n"), old) {
		t.Errorf("the report does not say %s was dropped: %q", old, rep.Notes)
	}
	for _, db := range []string{recent, notOurs} {
		if st, err := m.Target(ctx, db); err != nil || !st.Exists {
			t.Errorf("%s was dropped (%v)", db, err)
		}
	}
	// With no grace, the recent one is a leftover too; the odd name never is.
	dropped, err := m.DropLeftoverScratch(ctx, 0)
	if err != nil || !strings.Contains(strings.Join(dropped, ","), recent) {
		t.Errorf("DropLeftoverScratch(0) = %q, %v", dropped, err)
	}
	if st, _ := m.Target(ctx, notOurs); !st.Exists {
		t.Errorf("%s was dropped", notOurs)
	}
}

// TestCleanupDropsLeftoverScratch: the retention cleanup drops a drill
// database a killed worker left behind, and says so; a dry run does not.
func TestCleanupDropsLeftoverScratch(t *testing.T) {
	ctx := context.Background()
	m, _, _ := backedUp(t)
	m.DB = testenv.PrivateMySQL(t).Open(t, "") // see TestDrillDropsLeftoverScratch
	m.ScratchGrace = time.Hour
	old := "cantina_drill_" + m.Database + "_20200101000000_0badf00d"
	if _, err := m.DB.Exec("CREATE DATABASE `" + old + "`"); err != nil {
		t.Fatal(err)
	}
	dropLater(t, m.DB, old)
	dry, err := m.Cleanup(ctx, true)
	if err != nil || len(dry.DroppedScratch) != 0 {
		t.Fatalf("dry run: dropped %q, %v", dry.DroppedScratch, err)
	}
	if st, _ := m.Target(ctx, old); !st.Exists {
		t.Fatal("the dry run dropped the leftover")
	}
	rep, err := m.Cleanup(ctx, false)
	if err != nil || !slices.Contains(rep.DroppedScratch, old) {
		t.Fatalf("cleanup: dropped %q, %v", rep.DroppedScratch, err)
	}
	assertNoDatabase(t, m, old)
}
