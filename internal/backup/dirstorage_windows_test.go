package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWindowsErrors: Windows' own codes for a full disk and a file held
// open by another handle are recognised.
func TestWindowsErrors(t *testing.T) {
	pathErr := func(err error) error { return &os.PathError{Op: "write", Path: `C:\backups\x`, Err: err} }
	tests := []struct {
		name           string
		err            error
		full, busyFile bool
	}{
		{"disk full", pathErr(errorDiskFull), true, false},
		{"handle disk full", fmt.Errorf("commit: %w", pathErr(errorHandleDiskFull)), true, false},
		{"quota", pathErr(errorDiskQuota), true, false},
		{"sharing violation", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: errorSharingViolation}, false, true},
		{"access denied", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.ERROR_ACCESS_DENIED}, false, true},
		{"not found", pathErr(syscall.ERROR_FILE_NOT_FOUND), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diskFull(tt.err); got != tt.full {
				t.Errorf("diskFull = %v, want %v", got, tt.full)
			}
			if got := Hint(tt.err) == DiskFullHint; got != tt.full {
				t.Errorf("Hint is DiskFullHint: %v, want %v", got, tt.full)
			}
			if got := fileBusy(tt.err); got != tt.busyFile {
				t.Errorf("fileBusy = %v, want %v", got, tt.busyFile)
			}
		})
	}
}

// TestWindowsReplace: Replace renames over an existing manifest; while a
// reader holds it open a rename over it is refused as busy (what Commit
// retries), and once the reader has closed it Replace succeeds.
func TestWindowsReplace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := NewDirStorage(dir)
	name := ManifestName("cantina-20260101T020000Z.sql.gz")
	for _, content := range []string{"one", "two"} {
		if err := s.Replace(ctx, name, []byte(content)); err != nil {
			t.Fatalf("replace with %q: %v", content, err)
		}
	}
	r, err := s.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, filepath.Join(dir, name)); !fileBusy(err) {
		t.Errorf("rename over an open file: %v, want a busy error", err)
	}
	_ = r.Close()
	if err := s.Replace(ctx, name, []byte("three")); err != nil {
		t.Fatalf("replace once the reader closed: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "three" {
		t.Errorf("manifest holds %q, want %q", b, "three")
	}
}
