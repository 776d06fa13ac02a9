package backup_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// fakeSQL is a small but real dump: it loads with sqlload and the mariadb
// client. Its rows are random hex, so that it compresses poorly and the
// gzip stream reaches the storage while the dump is still running.
func fakeSQL(rows int) string {
	r := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	b.WriteString("-- fake dump\nSET NAMES utf8mb4;\nDROP TABLE IF EXISTS `items`;\n")
	b.WriteString("CREATE TABLE `items` (`id` INT PRIMARY KEY, `data` VARCHAR(200)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n")
	for i := 0; i < rows; {
		b.WriteString("INSERT INTO `items` VALUES ")
		for j := 0; j < 100 && i < rows; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			buf := make([]byte, 64)
			for k := range buf {
				buf[k] = byte(r.Uint32())
			}
			fmt.Fprintf(&b, "(%d,'%x')", i+1, buf)
			i++
		}
		b.WriteString(";\n")
	}
	b.WriteString("-- Dump completed on 2025-06-15 12:00:00\n")
	return b.String()
}

// fakeRows is the size of the default fake dump: about 280 KB of SQL.
// bigRows makes a dump of 2.8 MB (1.5 MB gzip'd): more than one 1 MiB gzip
// block, so compressed data reaches the storage while the dump runs.
const (
	fakeRows = 2000
	bigRows  = 20000
)

var (
	fakeDump = sync.OnceValue(func() string { return fakeSQL(fakeRows) })
	bigDump  = sync.OnceValue(func() string { return fakeSQL(bigRows) })
)

// fakeEngine writes fakeDump in 32 KiB pieces, optionally failing or
// blocking half way.
type fakeEngine struct {
	db        string
	sql       string        // default fakeDump()
	big       bool          // bigDump() instead
	failAfter int           // > 0: fail after writing this many bytes
	started   chan struct{} // closed once half the dump is written
	release   chan struct{} // if set, wait for it (or ctx) half way
}

func (e *fakeEngine) Name() string { return "fake" }

func (e *fakeEngine) Dump(ctx context.Context, w io.Writer, progress func(backup.Progress)) (backup.DumpInfo, error) {
	data, rows := e.sql, int64(fakeRows)
	switch {
	case e.big:
		data, rows = bigDump(), bigRows
	case data == "":
		data = fakeDump()
	}
	info := backup.DumpInfo{Engine: "fake", ToolVersion: "fake/1", ServerVersion: "none", Database: e.db,
		SnapshotAt: time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC), Tables: []backup.TableInfo{{Name: "items", Rows: rows}}}
	written := 0
	half := false
	for written < len(data) {
		if err := ctx.Err(); err != nil {
			return info, fmt.Errorf("fake dump: %w", err)
		}
		if !half && written >= len(data)/2 {
			half = true
			if e.started != nil {
				close(e.started)
			}
			if e.release != nil {
				select {
				case <-e.release:
				case <-ctx.Done():
					return info, fmt.Errorf("fake dump: %w", ctx.Err())
				}
			}
		}
		n := min(32<<10, len(data)-written)
		if e.failAfter > 0 && written+n > e.failAfter {
			n = e.failAfter - written
			if _, err := io.WriteString(w, data[written:written+n]); err != nil {
				return info, err
			}
			return info, errors.New("fake dump: the server went away")
		}
		if _, err := io.WriteString(w, data[written:written+n]); err != nil {
			return info, fmt.Errorf("fake dump: write: %w", err)
		}
		written += n
		if progress != nil {
			progress(backup.Progress{Table: "items", TablesAll: 1, Rows: int64(written / 140), Bytes: int64(written)})
		}
	}
	return info, nil
}

// stepClock starts at a fixed time and moves on a minute per call, so every
// backup gets its own name.
func stepClock() func() time.Time {
	var n atomic.Int64
	base := time.Date(2025, 6, 15, 2, 0, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Minute) }
}

// newManager returns a manager on a fresh test database with a fake engine
// and a DirStorage in a temp dir.
func newManager(t *testing.T) (*backup.Manager, testenv.MySQLServer) {
	t.Helper()
	srv, db := testenv.MySQLDatabase(t)
	return &backup.Manager{
		DB:        srv.Open(t, db),
		Database:  db,
		Engine:    &fakeEngine{db: db},
		Storage:   backup.NewDirStorage(t.TempDir()),
		Retention: backup.Policy{RetentionDays: 30, KeepMin: 2},
		Version:   "test",
		Now:       stepClock(),
	}, srv
}

func dirOf(m *backup.Manager) string { return m.Storage.(*backup.DirStorage).Dir() }

// snapshot maps each file in dir to its sha256.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = hex.EncodeToString(sum[:])
	}
	return out
}

func TestRunWritesBackupAndManifest(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	var progress []backup.Progress
	man, err := m.Run(ctx, backup.RunOptions{Trigger: backup.TriggerCLI, Progress: func(p backup.Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	dir := dirOf(m)
	files := snapshot(t, dir)
	if len(files) != 2 || files[man.Name] == "" || files[man.Name+".json"] == "" {
		t.Fatalf("files: %v", files)
	}
	if files[man.Name] != man.SHA256 {
		t.Fatalf("sha256 of the file %s, manifest %s", files[man.Name], man.SHA256)
	}
	if man.Name != backup.DumpName(m.Database, man.StartedAt) || man.Database != m.Database || man.Engine != "fake" ||
		man.ToolVersion != "fake/1" || man.AppVersion != "test" || man.Trigger != backup.TriggerCLI ||
		man.RawBytes != int64(len(fakeDump())) || man.CompressedBytes >= man.RawBytes || man.Rows() != fakeRows ||
		!man.FinishedAt.After(man.StartedAt) || man.Compression != "gzip" || man.CompressionLevel != 6 {
		t.Fatalf("manifest: %+v", man)
	}
	// The file was read back: the manifest records that verification of
	// this very file, so it is listed good.
	if v := man.Verified; v == nil || v.By != backup.VerifiedByBackup || v.Size != man.CompressedBytes {
		t.Fatalf("verification at creation: %+v", man.Verified)
	}
	if l, err := m.List(ctx); err != nil || len(l.Backups) != 1 || !l.Backups[0].Good() {
		t.Fatalf("listed %+v, %v; want one good backup", l.Backups, err)
	}
	if len(progress) == 0 || progress[len(progress)-1].Bytes != man.RawBytes {
		t.Fatalf("progress: %d reports", len(progress))
	}
	// The file is plain gzip: gunzip gives back the engine's SQL.
	out, err := exec.Command("gunzip", "-c", filepath.Join(dir, man.Name)).Output()
	if err != nil || string(out) != fakeDump() {
		t.Fatalf("gunzip: %v (%d bytes)", err, len(out))
	}

	l, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 1 || !l.Backups[0].Good() || l.Backups[0].Manifest.SHA256 != man.SHA256 || len(l.Temps) != 0 {
		t.Fatalf("listing: %+v", l)
	}
	rep, err := m.Verify(ctx, man.Name, true)
	if err != nil {
		t.Fatalf("verify: %v\n%+v", err, rep)
	}
	if !rep.RestoreTest || len(rep.Tables) != 1 || !rep.Tables[0].OK || rep.Tables[0].GotRows != fakeRows {
		t.Fatalf("verify report: %+v", rep)
	}
	assertNoDatabase(t, m, rep.ScratchDatabase)
}

// TestRunFailureLeavesNothing: whatever goes wrong during a dump, there is
// no final file, no manifest and no temporary file afterwards, and the
// backups already there are untouched.
func TestRunFailureLeavesNothing(t *testing.T) {
	tests := []struct {
		name   string
		engine func(db string) *fakeEngine
		store  func(s backup.Storage) backup.Storage
		cancel bool
		want   func(error) bool
		says   string
	}{
		{
			name:   "engine fails after writing",
			engine: func(db string) *fakeEngine { return &fakeEngine{db: db, big: true, failAfter: 2 << 20} },
			says:   "the server went away",
		},
		{
			name: "context cancelled during the dump",
			engine: func(db string) *fakeEngine {
				return &fakeEngine{db: db, started: make(chan struct{}), release: make(chan struct{})}
			},
			cancel: true,
			want:   func(err error) bool { return errors.Is(err, context.Canceled) },
		},
		{
			name:   "disk full while writing the dump",
			engine: func(db string) *fakeEngine { return &fakeEngine{db: db, big: true} },
			store:  func(s backup.Storage) backup.Storage { return &fullDisk{Storage: s, limit: 512 << 10} },
			want:   func(err error) bool { return errors.Is(err, syscall.ENOSPC) },
			says:   "backup storage is full",
		},
		{
			name: "disk full at the very end (gzip close)",
			store: func(s backup.Storage) backup.Storage {
				return &fullDisk{Storage: s, limit: 1 << 30, failOnCommit: true}
			},
			want: func(err error) bool { return errors.Is(err, syscall.ENOSPC) },
		},
		{
			name:  "disk full while writing the manifest",
			store: func(s backup.Storage) backup.Storage { return &fullDisk{Storage: s, limit: 10, onlyManifest: true} },
			want:  func(err error) bool { return errors.Is(err, syscall.ENOSPC) },
		},
		{
			name: "dump without trailer",
			engine: func(db string) *fakeEngine {
				return &fakeEngine{db: db, sql: strings.TrimSuffix(fakeDump(), "-- Dump completed on 2025-06-15 12:00:00\n")}
			},
			want: func(err error) bool { return errors.Is(err, backup.ErrIncompleteDump) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m, _ := newManager(t)
			old, err := m.Run(ctx, backup.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dir := dirOf(m)
			before := snapshot(t, dir)

			if tt.engine != nil {
				m.Engine = tt.engine(m.Database)
			}
			if tt.store != nil {
				m.Storage = tt.store(m.Storage)
			}
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			if tt.cancel {
				e := m.Engine.(*fakeEngine)
				go func() {
					<-e.started
					cancel()
				}()
			}
			_, err = m.Run(runCtx, backup.RunOptions{})
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if tt.want != nil && !tt.want(err) {
				t.Errorf("error %v is not the expected kind", err)
			}
			if tt.says != "" && !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if after := snapshot(t, dir); !mapsEqual(before, after) {
				t.Fatalf("the directory changed:\nbefore %v\nafter  %v", before, after)
			}
			l, err := backup.NewDirStorage(dir).List(ctx)
			if err != nil || len(l) != 2 {
				t.Fatalf("storage lists %+v (%v)", l, err)
			}
			m.Storage = backup.NewDirStorage(dir)
			if _, err := m.Verify(ctx, old.Name, false); err != nil {
				t.Fatalf("the old backup no longer verifies: %v", err)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// fullDisk is a storage whose uploads fail with ENOSPC once limit bytes
// are written (only for manifests with onlyManifest), or at Commit.
type fullDisk struct {
	backup.Storage
	limit        int64
	onlyManifest bool
	failOnCommit bool
}

func (f *fullDisk) Create(ctx context.Context, name string) (backup.Upload, error) {
	up, err := f.Storage.Create(ctx, name)
	if err != nil || (f.onlyManifest && !strings.HasSuffix(name, ".json")) {
		return up, err
	}
	return &fullUpload{Upload: up, left: f.limit, failOnCommit: f.failOnCommit, name: name}, nil
}

type fullUpload struct {
	backup.Upload
	left         int64
	failOnCommit bool
	name         string
}

func (u *fullUpload) Write(p []byte) (int, error) {
	if int64(len(p)) <= u.left {
		u.left -= int64(len(p))
		return u.Upload.Write(p)
	}
	n, _ := u.Upload.Write(p[:u.left])
	u.left = 0
	return n, &os.PathError{Op: "write", Path: u.name, Err: syscall.ENOSPC}
}

func (u *fullUpload) Commit() error {
	if u.failOnCommit {
		_ = u.Upload.Abort()
		return &os.PathError{Op: "fsync", Path: u.name, Err: syscall.ENOSPC}
	}
	return u.Upload.Commit()
}

// TestRunNamedLock: while one backup of a database runs, a second one (a
// second worker, or the CLI) is refused with ErrBackupRunning, and so is a
// restore into that database; once the first ends, backups run again.
func TestRunNamedLock(t *testing.T) {
	ctx := context.Background()
	m1, srv := newManager(t)
	first, err := m1.Run(ctx, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blocking := &fakeEngine{db: m1.Database, started: make(chan struct{}), release: make(chan struct{})}
	m1.Engine = blocking
	type result struct {
		man backup.Manifest
		err error
	}
	done := make(chan result, 1)
	go func() {
		man, err := m1.Run(ctx, backup.RunOptions{})
		done <- result{man, err}
	}()
	select {
	case <-blocking.started:
	case r := <-done:
		t.Fatalf("the first backup ended early: %v", r.err)
	}

	if running, err := m1.Running(ctx); err != nil || !running {
		t.Fatalf("Running during a backup = %v, %v", running, err)
	}
	// Another process: its own pool, same server and database.
	m2 := &backup.Manager{DB: srv.Open(t, m1.Database), Database: m1.Database, Engine: &fakeEngine{db: m1.Database},
		Storage: m1.Storage, Now: stepClock()}
	_, err = m2.Run(ctx, backup.RunOptions{})
	if !errors.Is(err, backup.ErrBackupRunning) {
		t.Fatalf("second Run: %v, want ErrBackupRunning", err)
	}
	if !strings.Contains(err.Error(), "wait for it to finish") {
		t.Errorf("the message does not tell the operator what to do: %v", err)
	}
	_, err = m2.Restore(ctx, first.Name, backup.RestoreOptions{Replace: true})
	if !errors.Is(err, backup.ErrBackupRunning) {
		t.Fatalf("Restore during a backup: %v, want ErrBackupRunning", err)
	}
	// A backup of another database is not blocked.
	_, otherDB := testenv.MySQLDatabase(t)
	m3 := &backup.Manager{DB: srv.Open(t, otherDB), Database: otherDB, Engine: &fakeEngine{db: otherDB},
		Storage: backup.NewDirStorage(t.TempDir()), Now: stepClock()}
	if _, err := m3.Run(ctx, backup.RunOptions{}); err != nil {
		t.Fatalf("backup of another database: %v", err)
	}

	close(blocking.release)
	r := <-done
	if r.err != nil {
		t.Fatalf("first Run: %v", r.err)
	}
	if running, err := m1.Running(ctx); err != nil || running {
		t.Fatalf("Running after the backup = %v, %v", running, err)
	}
	if _, err := m2.Run(ctx, backup.RunOptions{}); err != nil {
		t.Fatalf("Run after the first ended: %v", err)
	}
	l, err := m1.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 3 || slices.ContainsFunc(l.Backups, func(b backup.Backup) bool { return !b.Good() }) {
		t.Fatalf("listing: %+v", l.Backups)
	}
}

// TestRunSameSecond: two backups started within one second get two names.
func TestRunSameSecond(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	fixed := time.Date(2025, 6, 15, 2, 0, 0, 0, time.UTC)
	m.Now = func() time.Time { return fixed }
	a, err := m.Run(ctx, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Run(ctx, backup.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name == b.Name || b.Name != backup.DumpName(m.Database, fixed.Add(time.Second)) {
		t.Fatalf("names %s and %s", a.Name, b.Name)
	}
}

func assertNoDatabase(t *testing.T, m *backup.Manager, name string) {
	t.Helper()
	st, err := m.Target(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Exists {
		t.Fatalf("database %s is still there", name)
	}
}
