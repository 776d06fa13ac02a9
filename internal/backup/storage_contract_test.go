package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/minio/minio-go/v7"
)

const testPartSize = backup.MinS3PartSize

// s3Storage is an S3Storage on bucket of srv under prefix, with 5 MiB parts.
func s3Storage(t testing.TB, srv testenv.S3Server, bucket, prefix string) *backup.S3Storage {
	t.Helper()
	s, err := backup.NewS3Storage(backup.S3Options{Endpoint: srv.Endpoint, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey,
		Bucket: bucket, Prefix: prefix, ForcePathStyle: true, PartSize: testPartSize})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storageKind is a Storage under test and a way to put a file that is not
// ours beside its objects.
type storageKind struct {
	name       string
	new        func(t *testing.T) (backup.Storage, func(t *testing.T, name string))
	multipart  bool // ETag says how many parts an upload had
	hasETag    bool
	readSeeker bool
}

func storageKinds() []storageKind {
	return []storageKind{
		{
			name: "dir",
			new: func(t *testing.T) (backup.Storage, func(*testing.T, string)) {
				dir := t.TempDir()
				return backup.NewDirStorage(dir), func(t *testing.T, name string) {
					if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o750); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(dir, name), []byte("not ours"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			},
			readSeeker: true,
		},
		{
			name: "s3",
			new: func(t *testing.T) (backup.Storage, func(*testing.T, string)) {
				srv, bucket := testenv.S3Bucket(t)
				c := srv.Client(t)
				return s3Storage(t, srv, bucket, "cantina/prod"), func(t *testing.T, name string) {
					if _, err := c.PutObject(context.Background(), bucket, "cantina/prod/"+name, strings.NewReader("not ours"), 8, minio.PutObjectOptions{}); err != nil {
						t.Fatal(err)
					}
				}
			},
			multipart:  true,
			hasETag:    true,
			readSeeker: true,
		},
	}
}

const (
	dumpA = "cantina-20250301T020000Z.sql.gz"
	dumpB = "cantina-20250302T020000Z.sql.gz"
)

func write(t *testing.T, u backup.Upload, data []byte) {
	t.Helper()
	if _, err := u.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func readAll(t *testing.T, s backup.Storage, name string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

// listed returns the final objects by name and the temporary ones.
func storageObjects(t *testing.T, s backup.Storage) (map[string]backup.Object, []backup.Object) {
	t.Helper()
	objs, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	final := map[string]backup.Object{}
	var temps []backup.Object
	for _, o := range objs {
		if o.Temp {
			temps = append(temps, o)
		} else {
			final[o.Name] = o
		}
	}
	return final, temps
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStorageContract runs the same checks on every Storage: what is
// visible when, temporary objects, errors, atomic replace, and a
// multi-part upload read back byte for byte.
func TestStorageContract(t *testing.T) {
	ctx := context.Background()
	for _, k := range storageKinds() {
		t.Run(k.name, func(t *testing.T) {
			tests := []struct {
				name string
				run  func(t *testing.T, s backup.Storage, foreign func(*testing.T, string))
			}{
				{"committed upload is visible whole, listed like Stat says", func(t *testing.T, s backup.Storage, _ func(*testing.T, string)) {
					u, err := s.Create(ctx, dumpA)
					if err != nil {
						t.Fatal(err)
					}
					write(t, u, []byte("hello, "))
					if _, err := s.Stat(ctx, dumpA); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("Stat while uploading: %v, want ErrNotFound", err)
					}
					if _, err := s.Open(ctx, dumpA); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("Open while uploading: %v, want ErrNotFound", err)
					}
					final, temps := storageObjects(t, s)
					if len(final) != 0 || len(temps) != 1 || !strings.HasPrefix(temps[0].Name, "."+dumpA+".tmp-") || temps[0].ModTime.IsZero() {
						t.Errorf("listed while uploading: %v, temps %+v", final, temps)
					}
					write(t, u, []byte("world"))
					if err := u.Commit(); err != nil {
						t.Fatal(err)
					}
					if got := readAll(t, s, dumpA); string(got) != "hello, world" {
						t.Errorf("read %q", got)
					}
					st, err := s.Stat(ctx, dumpA)
					if err != nil {
						t.Fatal(err)
					}
					final, temps = storageObjects(t, s)
					if len(temps) != 0 || final[dumpA] != st || st.Size != 12 || st.Name != dumpA || st.ModTime.Location() != time.UTC {
						t.Errorf("after commit: listed %+v, temps %+v; Stat %+v", final, temps, st)
					}
					if k.hasETag != (st.ETag != "") || strings.Contains(st.ETag, `"`) {
						t.Errorf("ETag %q", st.ETag)
					}
					if err := u.Abort(); err != nil {
						t.Errorf("Abort after Commit: %v", err)
					}
					if _, err := s.Stat(ctx, dumpA); err != nil {
						t.Errorf("Abort after Commit removed the object: %v", err)
					}
				}},
				{"aborted upload leaves nothing", func(t *testing.T, s backup.Storage, _ func(*testing.T, string)) {
					u, err := s.Create(ctx, dumpA)
					if err != nil {
						t.Fatal(err)
					}
					write(t, u, randomBytes(t, 100<<10))
					if err := u.Abort(); err != nil {
						t.Fatal(err)
					}
					if err := u.Commit(); err == nil {
						t.Error("Commit after Abort succeeded")
					}
					if _, err := s.Stat(ctx, dumpA); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("Stat after abort: %v, want ErrNotFound", err)
					}
					if final, temps := storageObjects(t, s); len(final)+len(temps) != 0 {
						t.Errorf("after abort: %v, temps %+v", final, temps)
					}
				}},
				{"deleting the temporary object of a running upload stops it", func(t *testing.T, s backup.Storage, _ func(*testing.T, string)) {
					u, err := s.Create(ctx, dumpA)
					if err != nil {
						t.Fatal(err)
					}
					write(t, u, []byte("partial"))
					_, temps := storageObjects(t, s)
					if len(temps) != 1 {
						t.Fatalf("temps %+v", temps)
					}
					if err := s.Delete(ctx, temps[0].Name); err != nil {
						t.Fatal(err)
					}
					if err := s.Delete(ctx, temps[0].Name); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("second Delete of the temporary object: %v, want ErrNotFound", err)
					}
					if err := u.Commit(); err == nil {
						t.Error("Commit of an upload whose temporary object was deleted succeeded")
					}
					if final, temps := storageObjects(t, s); len(final)+len(temps) != 0 {
						t.Errorf("left: %v, temps %+v", final, temps)
					}
				}},
				{"create refuses a stored name and invalid names", func(t *testing.T, s backup.Storage, _ func(*testing.T, string)) {
					if err := s.Replace(ctx, dumpA, []byte("x")); err != nil {
						t.Fatal(err)
					}
					if _, err := s.Create(ctx, dumpA); !errors.Is(err, backup.ErrExists) {
						t.Errorf("Create of a stored name: %v, want ErrExists", err)
					}
					for _, name := range []string{"../" + dumpB, "x/" + dumpB, "notes.txt", "." + dumpB + ".tmp-0123456789abcdef", ""} {
						if _, err := s.Create(ctx, name); !errors.Is(err, backup.ErrInvalidName) {
							t.Errorf("Create(%q): %v, want ErrInvalidName", name, err)
						}
					}
				}},
				{"missing objects are ErrNotFound", func(t *testing.T, s backup.Storage, _ func(*testing.T, string)) {
					if _, err := s.Open(ctx, dumpB); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("Open: %v", err)
					}
					if _, err := s.Stat(ctx, dumpB); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("Stat: %v", err)
					}
					if err := s.Delete(ctx, dumpB); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("Delete: %v", err)
					}
					if err := s.Delete(ctx, "."+dumpB+".tmp-0123456789abcdef"); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("Delete of a temporary object: %v", err)
					}
					if err := s.Replace(ctx, dumpB, nil); err != nil {
						t.Fatal(err)
					}
					if err := s.Delete(ctx, dumpB); err != nil {
						t.Fatal(err)
					}
					if _, err := s.Stat(ctx, dumpB); !errors.Is(err, backup.ErrNotFound) {
						t.Errorf("Stat after Delete: %v", err)
					}
				}},
				{"objects not ours are not listed", func(t *testing.T, s backup.Storage, foreign func(*testing.T, string)) {
					for _, name := range []string{"notes.txt", "sub/" + dumpA, "backup.sql.gz", dumpA + ".bak"} {
						foreign(t, name)
					}
					if err := s.Replace(ctx, dumpB+".json", []byte("{}")); err != nil {
						t.Fatal(err)
					}
					if final, temps := storageObjects(t, s); len(final) != 1 || len(temps) != 0 || final[dumpB+".json"].Size != 2 {
						t.Errorf("listed %v, temps %+v", final, temps)
					}
				}},
				{"replace is atomic", func(t *testing.T, s backup.Storage, _ func(*testing.T, string)) {
					name := dumpA + ".json"
					versions := [][]byte{bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 64<<10)}
					if err := s.Replace(ctx, name, versions[0]); err != nil {
						t.Fatal(err)
					}
					var wg sync.WaitGroup
					stop := make(chan struct{})
					var readErr error
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							select {
							case <-stop:
								return
							default:
							}
							r, err := s.Open(ctx, name)
							if err != nil {
								readErr = err
								return
							}
							b, err := io.ReadAll(r)
							_ = r.Close()
							if err != nil || !(bytes.Equal(b, versions[0]) || bytes.Equal(b, versions[1])) {
								readErr = errors.Join(err, errors.New("a reader saw neither the old content nor the new"))
								return
							}
						}
					}()
					for i := range 20 {
						if err := s.Replace(ctx, name, versions[(i+1)%2]); err != nil {
							t.Error(err)
							break
						}
					}
					close(stop)
					wg.Wait()
					if readErr != nil {
						t.Errorf("concurrent reader: %v", readErr)
					}
					if got := readAll(t, s, name); !bytes.Equal(got, versions[0]) {
						t.Errorf("after 20 replaces read %.10q…, want the last version", got)
					}
				}},
				{"a multi-part upload reads back byte for byte, and seeks", func(t *testing.T, s backup.Storage, _ func(*testing.T, string)) {
					data := randomBytes(t, 12<<20)
					u, err := s.Create(ctx, dumpB)
					if err != nil {
						t.Fatal(err)
					}
					for off := 0; off < len(data); off += 1 << 20 {
						write(t, u, data[off:off+1<<20])
					}
					if err := u.Commit(); err != nil {
						t.Fatal(err)
					}
					st, err := s.Stat(ctx, dumpB)
					if err != nil || st.Size != int64(len(data)) {
						t.Fatalf("Stat = %+v, %v", st, err)
					}
					if k.multipart && !strings.HasSuffix(st.ETag, "-3") {
						t.Errorf("ETag %q: want an upload of three parts", st.ETag)
					}
					r, err := s.Open(ctx, dumpB)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					got, err := io.ReadAll(r)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("read back %d bytes (%v), equal %v", len(got), err, bytes.Equal(got, data))
					}
					rs, ok := r.(io.ReadSeeker)
					if ok != k.readSeeker {
						t.Fatalf("Open returned a %T: a restore needs an io.ReadSeekCloser to stream", r)
					}
					if _, err := rs.Seek(7<<20, io.SeekStart); err != nil {
						t.Fatal(err)
					}
					tail, err := io.ReadAll(rs)
					if err != nil || !bytes.Equal(tail, data[7<<20:]) {
						t.Errorf("after Seek read %d bytes (%v), want the last %d", len(tail), err, len(data)-7<<20)
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s, foreign := k.new(t)
					tt.run(t, s, foreign)
				})
			}
		})
	}
}
