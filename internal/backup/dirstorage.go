package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

var _ Storage = (*DirStorage)(nil)

// DirStorage stores backups as files in one local directory (BACKUP_DIR).
// An upload writes ".<name>.tmp-<random>" in the same directory, and Commit
// flushes it, fsyncs it, renames it to name and fsyncs the directory: a
// crash leaves either the complete file or a temporary one, never a partial
// file under a final name. Files are created mode 0600: dumps hold personal
// data.
//
// On Windows the directory fsync is skipped (NTFS journals its metadata;
// a directory handle cannot be flushed), and a rename over an object that
// a reader holds open is retried for up to renameRetryFor (Windows opens
// files without FILE_SHARE_DELETE, so an open reader blocks the rename;
// readers of manifests are brief). Deleting an object that a reader holds
// open fails there too, and is left to the next cleanup.
type DirStorage struct {
	dir string
}

// NewDirStorage returns a storage in dir; the directory is created on the
// first upload.
func NewDirStorage(dir string) *DirStorage { return &DirStorage{dir: dir} }

// Dir is the storage's directory.
func (s *DirStorage) Dir() string { return s.dir }

// Path is the path of a stored object, for messages such as "gunzip -c PATH".
func (s *DirStorage) Path(name string) (string, error) {
	if err := validObjectName(name); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, name), nil
}

// List implements Storage. A missing directory holds no backups.
func (s *DirStorage) List(ctx context.Context) ([]Object, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups in %s: %w", s.dir, err)
	}
	var out []Object
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k, _ := classifyName(e.Name())
		if k == kindOther || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("list backups in %s: %w", s.dir, err)
		}
		out = append(out, Object{Name: e.Name(), Size: fi.Size(), ModTime: fi.ModTime().UTC(), Temp: k == kindTemp})
	}
	return out, nil
}

// Create implements Storage.
func (s *DirStorage) Create(ctx context.Context, name string) (Upload, error) {
	return s.create(ctx, name, false)
}

// Replace implements Storage: a temporary file renamed over the old one.
func (s *DirStorage) Replace(ctx context.Context, name string, data []byte) error {
	up, err := s.create(ctx, name, true)
	if err != nil {
		return err
	}
	if _, err := up.Write(data); err != nil {
		_ = up.Abort()
		return err
	}
	return up.Commit()
}

// Stat implements Storage.
func (s *DirStorage) Stat(ctx context.Context, name string) (Object, error) {
	if err := validFinalName(name); err != nil {
		return Object{}, err
	}
	fi, err := os.Lstat(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return Object{}, fmt.Errorf("stat %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Object{}, fmt.Errorf("stat %s: %w", name, err)
	}
	return Object{Name: name, Size: fi.Size(), ModTime: fi.ModTime().UTC()}, nil
}

func (s *DirStorage) create(ctx context.Context, name string, replace bool) (*dirUpload, error) {
	if err := validFinalName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("create backup directory: %w", err)
	}
	final := filepath.Join(s.dir, name)
	if _, err := os.Lstat(final); err == nil && !replace {
		return nil, fmt.Errorf("create %s: %w", name, ErrExists)
	}
	f, err := os.CreateTemp(s.dir, "."+name+tempInfix+"*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return &dirUpload{f: f, w: bufio.NewWriterSize(f, 256<<10), final: final, dir: s.dir, replace: replace}, nil
}

// Open implements Storage.
func (s *DirStorage) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := validFinalName(name); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return f, nil
}

// Delete implements Storage.
func (s *DirStorage) Delete(ctx context.Context, name string) error {
	if err := validObjectName(name); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// dirUpload is a DirStorage upload in progress.
type dirUpload struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	final string
	dir   string
	done  bool // committed or aborted
	// replace: Commit renames over an existing object (Replace).
	replace bool
}

func (u *dirUpload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0, errors.New("write to a finished upload")
	}
	return u.w.Write(p)
}

// Commit flushes, fsyncs and renames the temporary file, then fsyncs the
// directory so that the rename itself survives a power cut. On failure the
// temporary file is removed.
func (u *dirUpload) Commit() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return errors.New("commit of a finished upload")
	}
	u.done = true
	tmp := u.f.Name()
	fail := func(step string, err error) error {
		_ = u.f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("commit %s: %s: %w", filepath.Base(u.final), step, err)
	}
	if err := u.w.Flush(); err != nil {
		return fail("write", err)
	}
	if err := u.f.Sync(); err != nil {
		return fail("fsync", err)
	}
	if err := u.f.Close(); err != nil {
		return fail("close", err)
	}
	if _, err := os.Lstat(u.final); err == nil && !u.replace {
		return fail("rename", ErrExists)
	}
	if err := retryBusy(func() error { return os.Rename(tmp, u.final) }, fileBusy, renameRetryFor, time.Sleep); err != nil {
		return fail("rename", err)
	}
	if err := syncDir(u.dir); err != nil {
		return fmt.Errorf("commit %s: fsync directory: %w", filepath.Base(u.final), err)
	}
	return nil
}

// Abort closes and removes the temporary file.
func (u *dirUpload) Abort() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return nil
	}
	u.done = true
	_ = u.f.Close()
	if err := os.Remove(u.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove temporary file: %w", err)
	}
	return nil
}

// renameRetryFor is how long a commit retries a rename that another
// process's open handle blocks (Windows only: see fileBusy).
const renameRetryFor = 2 * time.Second

// retryBusy runs op until it succeeds, fails with an error that busy does
// not recognise, or has waited limit in all, waiting 5 ms, 10 ms, … (at
// most 250 ms) between attempts.
func retryBusy(op func() error, busy func(error) bool, limit time.Duration, sleep func(time.Duration)) error {
	wait, waited := 5*time.Millisecond, time.Duration(0)
	for {
		err := op()
		if err == nil || !busy(err) || waited >= limit {
			return err
		}
		sleep(wait)
		waited += wait
		wait = min(2*wait, 250*time.Millisecond)
	}
}
