package testenv

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 tests use the MinIO that scripts/test.sh starts:
//
//	CANTINA_TEST_S3_ENDPOINT   http://host:port
//	CANTINA_TEST_S3_ACCESS_KEY its root user
//	CANTINA_TEST_S3_SECRET_KEY its root password
//	CANTINA_TEST_MINIO_BIN     the minio binary, for tests that run their own
//	                           (StartMinIO)
//	CANTINA_TEST_MINIO_DIR     where those keep their data (a RAM disk when
//	                           test.sh finds one; default: the test's temp dir)

// S3Server is an S3 endpoint and its credentials.
type S3Server struct {
	Endpoint  string // http://host:port
	AccessKey string
	SecretKey string
}

// S3 returns the test MinIO's endpoint and credentials.
func S3(tb testing.TB) S3Server {
	tb.Helper()
	return S3Server{
		Endpoint:  need(tb, "CANTINA_TEST_S3_ENDPOINT"),
		AccessKey: need(tb, "CANTINA_TEST_S3_ACCESS_KEY"),
		SecretKey: need(tb, "CANTINA_TEST_S3_SECRET_KEY"),
	}
}

// Client is a minio-go client of the server, for a test to look at a
// bucket directly.
func (s S3Server) Client(tb testing.TB) *minio.Client {
	tb.Helper()
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Host == "" {
		tb.Fatalf("S3 endpoint %q is not a URL", s.Endpoint)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure:       u.Scheme == "https",
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		tb.Fatalf("S3 client for %s: %v", s.Endpoint, err)
	}
	return c
}

// Bucket creates an empty bucket with a unique name for the test and
// removes it, with everything in it, at cleanup.
func (s S3Server) Bucket(tb testing.TB) string {
	tb.Helper()
	c := s.Client(tb)
	name := "cantina-test-" + randomHex(6)
	// A MinIO that just said "ready" may still answer "Server not
	// initialized yet" for a moment.
	var err error
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err = c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{})
		if err == nil || !strings.Contains(err.Error(), "not initialized") || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		tb.Fatalf("create bucket %s at %s: %v", name, s.Endpoint, err)
	}
	tb.Cleanup(func() {
		ctx := context.Background()
		for u := range c.ListIncompleteUploads(ctx, name, "", true) {
			if u.Err == nil && u.UploadID != "" {
				_ = minio.Core{Client: c}.AbortMultipartUpload(ctx, name, u.Key, u.UploadID)
			}
		}
		_ = c.RemoveBucketWithOptions(ctx, name, minio.RemoveBucketOptions{ForceDelete: true})
	})
	return name
}

// S3Bucket is S3(tb) and a fresh bucket on it.
func S3Bucket(tb testing.TB) (S3Server, string) {
	tb.Helper()
	s := S3(tb)
	return s, s.Bucket(tb)
}

// MinIO is a private MinIO server of one test, which the test can stop and
// start again (same port, same data): for showing a storage that fails.
type MinIO struct {
	S3Server
	tb   testing.TB
	bin  string
	dir  string
	addr string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartMinIO runs a MinIO server of the test's own (CANTINA_TEST_MINIO_BIN)
// on a free port, with its data in a temporary directory and credentials
// made up here; it is stopped at cleanup.
func StartMinIO(tb testing.TB) *MinIO {
	tb.Helper()
	bin := need(tb, "CANTINA_TEST_MINIO_BIN")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	dir := tb.TempDir()
	if base := os.Getenv("CANTINA_TEST_MINIO_DIR"); base != "" {
		if dir, err = os.MkdirTemp(base, "minio"); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	m := &MinIO{
		S3Server: S3Server{Endpoint: "http://" + addr, AccessKey: "cantina-" + randomHex(4), SecretKey: randomHex(16)},
		tb:       tb, bin: bin, dir: dir, addr: addr,
	}
	tb.Cleanup(m.Stop)
	m.Start()
	return m
}

// answers reports whether the server serves an authenticated request.
func (m *MinIO) answers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := m.Client(m.tb).ListBuckets(ctx)
	return err == nil
}

// Start starts the server (again) and waits until it is ready.
func (m *MinIO) Start() {
	m.tb.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		m.tb.Fatalf("MinIO at %s is already running", m.addr)
	}
	cmd := exec.Command(m.bin, "server", m.dir, "--address", m.addr, "--quiet")
	env := []string{"MINIO_ROOT_USER=" + m.AccessKey, "MINIO_ROOT_PASSWORD=" + m.SecretKey, "MINIO_BROWSER=off", "MINIO_UPDATE=off"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIO_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	log := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		m.tb.Fatalf("start MinIO %s: %v", m.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	m.cmd, m.done = cmd, done

	ready := "http://" + m.addr + "/minio/health/ready"
	hc := &http.Client{Timeout: 2 * time.Second}
	end := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			m.cmd = nil
			m.tb.Fatalf("MinIO at %s exited during start-up: %s", m.addr, log.String())
		default:
		}
		if resp, err := hc.Get(ready); err == nil {
			_ = resp.Body.Close()
			// "ready" can come before the object layer answers requests
			// ("Server not initialized yet"): wait for a real one too.
			if resp.StatusCode == http.StatusOK && m.answers() {
				return
			}
		}
		if time.Now().After(end) {
			m.tb.Fatalf("MinIO at %s not ready after 60 s: %s", m.addr, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 30 s) and waits for
// it to exit; a stopped server's port refuses connections.
func (m *MinIO) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	StopProcess(m.cmd.Process, syscall.SIGTERM, m.done)
	m.cmd = nil
}
