package backup

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestDirStorageCommit(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "backups") // created on first upload
	s := NewDirStorage(dir)
	if objs, err := s.List(ctx); err != nil || len(objs) != 0 {
		t.Fatalf("List of a missing dir = %v, %v", objs, err)
	}
	const name = "pos-20250101T020000Z.sql.gz"
	up, err := s.Create(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(up, "hello"); err != nil {
		t.Fatal(err)
	}
	// While writing: only a temporary file, listed as such.
	names := dirNames(t, dir)
	if len(names) != 1 || !strings.HasPrefix(names[0], "."+name+".tmp-") {
		t.Fatalf("during upload the directory holds %q", names)
	}
	objs, _ := s.List(ctx)
	if len(objs) != 1 || !objs[0].Temp || objs[0].Name != names[0] {
		t.Fatalf("List during upload = %+v", objs)
	}
	if _, err := s.Open(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open before Commit: %v", err)
	}
	if err := up.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := up.Abort(); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{name}) {
		t.Fatalf("after Commit: %q", got)
	}
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("committed file: %v", err)
	}
	// Windows has no permission bits: BACKUP_DIR's ACL protects the file.
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("committed file: mode %v; want 0600", fi.Mode())
	}
	r, err := s.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "hello" {
		t.Fatalf("read back %q", b)
	}
	objs, _ = s.List(ctx)
	if len(objs) != 1 || objs[0].Temp || objs[0].Size != 5 || objs[0].Name != name {
		t.Fatalf("List = %+v", objs)
	}
	if _, err := s.Create(ctx, name); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over an existing file: %v", err)
	}
	if err := s.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestDirStorageAbort(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewDirStorage(dir)
	up, err := s.Create(ctx, "pos-20250101T020000Z.sql.gz.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write([]byte("{")); err != nil {
		t.Fatal(err)
	}
	if err := up.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Fatalf("after Abort: %q", got)
	}
	if err := up.Commit(); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
	if _, err := up.Write([]byte("x")); err == nil {
		t.Fatal("Write after Abort succeeded")
	}
}

func TestDirStorageRefusesForeignNames(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "backups")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Files that are not ours are never listed.
	for _, n := range []string{"README", "notes.sql.gz", ".hidden", "pos-20250101T020000Z.sql.gz.bak"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "pos-20250101T020000Z.sql.gz"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "secret-20250101T020000Z.sql.gz"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := NewDirStorage(dir)
	if objs, err := s.List(ctx); err != nil || len(objs) != 0 {
		t.Fatalf("List = %+v, %v; want nothing", objs, err)
	}
	bad := []string{"../secret-20250101T020000Z.sql.gz", "/etc/passwd", "README", "..", "", "notes.sql.gz"}
	for _, n := range bad {
		if _, err := s.Open(ctx, n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Open(%q): %v", n, err)
		}
		if err := s.Delete(ctx, n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Delete(%q): %v", n, err)
		}
		if _, err := s.Create(ctx, n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Create(%q): %v", n, err)
		}
	}
	if _, err := s.Create(ctx, ".pos-20250101T020000Z.sql.gz.tmp-1"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Create of a temporary name: %v", err)
	}
	if got := dirNames(t, dir); len(got) != 5 {
		t.Fatalf("foreign files touched: %q", got)
	}
}
