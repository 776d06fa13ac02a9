package backup_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/demo"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/minio/minio-go/v7"
)

const s3TestPrefix = "cantina/nightly"

// bucketKeys lists every object key in bucket.
func bucketKeys(t *testing.T, c *minio.Client, bucket string) []string {
	t.Helper()
	var keys []string
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list bucket %s: %v", bucket, o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

// incompleteUploads lists the multipart uploads in progress in bucket.
func incompleteUploads(t *testing.T, c *minio.Client, bucket string) []minio.ObjectMultipartInfo {
	t.Helper()
	var out []minio.ObjectMultipartInfo
	for u := range c.ListIncompleteUploads(context.Background(), bucket, "", true) {
		if u.Err != nil {
			t.Fatalf("list incomplete uploads in %s: %v", bucket, u.Err)
		}
		out = append(out, u)
	}
	return out
}

// TestS3EndToEnd: a native backup of the demo POS to MinIO stores the dump
// and its manifest in the bucket, passes verify with the restore drill, and
// restores from the bucket into a new database with every table identical
// (CHECKSUM TABLE) to the source's.
func TestS3EndToEnd(t *testing.T) {
	ctx := context.Background()
	srv, src, srcDB := demoSource(t)
	want := checksums(t, srv, src)
	s3srv, bucket := testenv.S3Bucket(t)
	m := nativeManager(t, srv, src, srcDB)
	m.Storage = s3Storage(t, s3srv, bucket, s3TestPrefix)

	man, err := m.Run(ctx, backup.RunOptions{Trigger: backup.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	keys := bucketKeys(t, s3srv.Client(t), bucket)
	wantKeys := []string{s3TestPrefix + "/" + man.Name, s3TestPrefix + "/" + backup.ManifestName(man.Name)}
	if strings.Join(keys, ",") != strings.Join(wantKeys, ",") {
		t.Fatalf("bucket holds %q, want %q", keys, wantKeys)
	}
	if ups := incompleteUploads(t, s3srv.Client(t), bucket); len(ups) != 0 {
		t.Errorf("incomplete uploads left: %+v", ups)
	}
	l, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Backups) != 1 || l.Backups[0].Status != backup.StatusGood || len(l.Temps) != 0 {
		t.Fatalf("listing: %+v", l)
	}

	verifyWithDrill(t, m, man.Name)

	restoreExact(t, m, man.Name, srv, srcDB, src+"_from_s3", want)
}

// restoreExact restores backup name into a new database target (dropped
// at cleanup) and checks that every table's CHECKSUM TABLE equals want.
func restoreExact(t *testing.T, m *backup.Manager, name string, srv testenv.MySQLServer, srcDB *sql.DB, target string, want map[string]string) {
	t.Helper()
	dropLater(t, srcDB, target)
	res, err := m.Restore(context.Background(), name, backup.RestoreOptions{Database: target})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || !res.Verified || len(res.Warnings) != 0 {
		t.Fatalf("restore result: %+v", res)
	}
	sameChecksums(t, "restore of "+name+" into "+target, want, checksums(t, srv, target))
}

// verifyWithDrill verifies native backup name with the restore drill and
// checks that every demo table came back with its checksum and row count,
// and that the drill's scratch database is gone.
func verifyWithDrill(t *testing.T, m *backup.Manager, name string) {
	t.Helper()
	rep, err := m.Verify(context.Background(), name, true)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !rep.RestoreTest || len(rep.Tables) != len(demo.BaseTables()) {
		t.Fatalf("verify report: %+v", rep)
	}
	for _, tc := range rep.Tables {
		if !tc.OK || tc.GotChecksum == "" || tc.GotChecksum != tc.WantChecksum || tc.GotRows != tc.WantRows {
			t.Errorf("restore drill, table %+v", tc)
		}
	}
	assertNoDatabase(t, m, rep.ScratchDatabase)
}

// TestS3RetentionKeepMin: cleanup on the bucket deletes the backups past
// the retention period except the KeepMin newest verified ones, dump and
// manifest alike.
func TestS3RetentionKeepMin(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	s3srv, bucket := testenv.S3Bucket(t)
	m.Storage = s3Storage(t, s3srv, bucket, s3TestPrefix)
	m.Retention = backup.Policy{RetentionDays: 7, KeepMin: 2}
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	m.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }

	var names []string
	for i := range 4 {
		setNow(time.Date(2025, 3, 1+i, 2, 0, 0, 0, time.UTC))
		man, err := m.Run(ctx, backup.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, man.Name)
	}
	tests := []struct {
		name string
		at   time.Time
		kept []string
	}{
		{"within the retention period all are kept", time.Date(2025, 3, 6, 0, 0, 0, 0, time.UTC), names},
		{"past it, the oldest go", time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC), names[2:]},
		{"long after, the two newest stay", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), names[2:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setNow(tt.at)
			if _, err := m.Cleanup(ctx, false); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, n := range tt.kept {
				want = append(want, s3TestPrefix+"/"+n, s3TestPrefix+"/"+backup.ManifestName(n))
			}
			if got := bucketKeys(t, s3srv.Client(t), bucket); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("bucket holds %q, want %q", got, want)
			}
			l, err := m.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range l.Backups {
				if b.Status != backup.StatusGood {
					t.Errorf("%s is %s: %s", b.Name, b.Status, b.Problem)
				}
			}
		})
	}
}

// freezingProxy forwards TCP connections to an upstream server, but only
// the first budget bytes sent by clients (in all): past that it stops
// reading from them, so no request that needs more can finish.
type freezingProxy struct {
	l        net.Listener
	upstream string
	mu       sync.Mutex
	budget   int64
	conns    []net.Conn
	frozen   chan struct{}
	once     sync.Once
}

func startFreezingProxy(t *testing.T, upstream string, budget int64) *freezingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{l: l, upstream: upstream, budget: budget, frozen: make(chan struct{})}
	t.Cleanup(p.Close)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(c, up) }()
			go p.forward(up, c)
		}
	}()
	return p
}

func (p *freezingProxy) Addr() string { return p.l.Addr().String() }

// forward copies src to dst while the budget lasts.
func (p *freezingProxy) forward(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			allowed := min(int64(n), p.budget)
			p.budget -= allowed
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:allowed]); werr != nil {
				return
			}
			if allowed < int64(n) {
				p.once.Do(func() { close(p.frozen) })
				return // hold both connections open, unread
			}
		}
		if err != nil {
			_ = dst.Close()
			return
		}
	}
}

// Close drops every connection, as the kernel does for a killed process.
func (p *freezingProxy) Close() {
	_ = p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// TestHelperS3Upload is the worker that TestS3KilledUpload kills: it runs a
// backup to S3 through the test's proxy. It does nothing in a normal run.
func TestHelperS3Upload(t *testing.T) {
	if os.Getenv("CANTINA_S3_UPLOAD_CHILD") != "1" {
		t.Skip("the child process of TestS3KilledUpload")
	}
	srv := testenv.MySQL(t)
	db := os.Getenv("CANTINA_S3_UPLOAD_DB")
	m := nativeManager(t, srv, db, srv.Open(t, db))
	s3srv := testenv.S3(t)
	s3srv.Endpoint = os.Getenv("CANTINA_S3_UPLOAD_ENDPOINT")
	m.Storage = s3Storage(t, s3srv, os.Getenv("CANTINA_S3_UPLOAD_BUCKET"), s3TestPrefix)
	man, err := m.Run(context.Background(), backup.RunOptions{})
	t.Fatalf("the backup was to hang behind the frozen proxy; it returned %+v, %v", man, err)
}

// TestS3KilledUpload: a worker killed in the middle of a multipart upload
// leaves no object under the dump's name and no manifest, only an
// incomplete upload, which List shows as a temporary object and the first
// cleanup after Policy.Grace aborts.
func TestS3KilledUpload(t *testing.T) {
	ctx := context.Background()
	srv, dbName := testenv.MySQLDatabase(t)
	db := srv.Open(t, dbName)
	// Incompressible rows, more than a part: the upload cannot finish
	// through a proxy that passes 1 MiB.
	testenv.ExecAll(t, db, "CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)")
	for i := range 8 {
		if _, err := db.Exec("INSERT INTO blobs VALUES (?, ?)", i, randomBytes(t, 1<<20)); err != nil {
			t.Fatal(err)
		}
	}
	s3srv, bucket := testenv.S3Bucket(t)
	client := s3srv.Client(t)
	u, err := url.Parse(s3srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startFreezingProxy(t, u.Host, 1<<20)

	child := exec.Command(os.Args[0], "-test.run=^TestHelperS3Upload$", "-test.v")
	child.Env = append(os.Environ(), "CANTINA_S3_UPLOAD_CHILD=1", "CANTINA_S3_UPLOAD_DB="+dbName,
		"CANTINA_S3_UPLOAD_ENDPOINT=http://"+proxy.Addr(), "CANTINA_S3_UPLOAD_BUCKET="+bucket,
		"TMPDIR="+t.TempDir()) // the killed child cannot remove its temp dirs; this test does
	out := &testenv.SyncBuffer{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = child.Wait(); close(exited) }()
	t.Cleanup(func() { _ = child.Process.Kill(); <-exited })

	testenv.Eventually(t, 2*time.Minute, "the child's multipart upload in MinIO and the proxy frozen", func() bool {
		select {
		case <-exited:
			t.Fatalf("the child exited before it was killed:\n%s", out.String())
		default:
		}
		select {
		case <-proxy.frozen:
			return len(incompleteUploads(t, client, bucket)) == 1
		default:
			return false
		}
	})
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	proxy.Close()

	ups := incompleteUploads(t, client, bucket)
	if len(ups) != 1 || !strings.HasPrefix(ups[0].Key, s3TestPrefix+"/"+dbName+"-") {
		t.Fatalf("incomplete uploads: %+v", ups)
	}
	dump := strings.TrimPrefix(ups[0].Key, s3TestPrefix+"/")
	if err := backup.ValidateName(dump); err != nil {
		t.Fatal(err)
	}
	if keys := bucketKeys(t, client, bucket); len(keys) != 0 {
		t.Errorf("the killed upload left objects %q", keys)
	}

	store := s3Storage(t, s3srv, bucket, s3TestPrefix)
	for _, name := range []string{dump, backup.ManifestName(dump)} {
		if _, err := store.Stat(ctx, name); !errors.Is(err, backup.ErrNotFound) {
			t.Errorf("Stat(%s) = %v, want ErrNotFound", name, err)
		}
	}
	objs, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || !objs[0].Temp || !strings.HasPrefix(objs[0].Name, "."+dump+".tmp-") {
		t.Fatalf("List = %+v, want the upload as one temporary object", objs)
	}

	m := &backup.Manager{Database: dbName, Storage: store, Retention: backup.Policy{RetentionDays: 30, KeepMin: 7, Grace: time.Hour}}
	for _, tt := range []struct {
		name    string
		after   time.Duration
		deleted int
		left    int
	}{
		{"within the grace period the upload is left alone", 0, 0, 1},
		{"past it the upload is aborted", 2 * time.Hour, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m.Now = func() time.Time { return objs[0].ModTime.Add(tt.after) }
			rep, err := m.Cleanup(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Deleted) != tt.deleted {
				t.Errorf("deleted %+v", rep.Deleted)
			}
			if ups := incompleteUploads(t, client, bucket); len(ups) != tt.left {
				t.Errorf("incomplete uploads: %+v, want %d", ups, tt.left)
			}
		})
	}
}
