package backup_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestS3RequestHeaders: what an upload sends is what R2 and B2 take: a
// Content-MD5 on every part and on a PUT, an unsigned payload, and no
// x-amz-checksum header, checksum algorithm or trailer.
func TestS3RequestHeaders(t *testing.T) {
	ctx := context.Background()
	s3srv, bucket := testenv.S3Bucket(t)
	upstream, err := url.Parse(s3srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []*http.Request
	rp := httputil.NewSingleHostReverseProxy(upstream)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()
	via := s3srv
	via.Endpoint = front.URL
	s := s3Storage(t, via, bucket, "p")

	u, err := s.Create(ctx, dumpA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(randomBytes(t, 6<<20)); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, dumpA+".json", []byte("{}")); err != nil {
		t.Fatal(err)
	}

	puts := 0
	for _, r := range seen {
		for k, v := range r.Header {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "x-amz-checksum") || lk == "x-amz-sdk-checksum-algorithm" || lk == "x-amz-trailer" ||
				strings.Contains(strings.Join(v, ","), "aws-chunked") || strings.Contains(strings.Join(v, ","), "STREAMING-") {
				t.Errorf("%s %s sent %s: %q", r.Method, r.URL, k, v)
			}
		}
		if r.Method != http.MethodPut {
			continue
		}
		puts++
		if r.Header.Get("Content-Md5") == "" {
			t.Errorf("PUT %s without Content-MD5", r.URL)
		}
		if got := r.Header.Get("X-Amz-Content-Sha256"); got != "UNSIGNED-PAYLOAD" {
			t.Errorf("PUT %s: X-Amz-Content-Sha256 %q", r.URL, got)
		}
	}
	if puts != 3 { // two parts and the manifest
		t.Errorf("%d PUT requests, want 3", puts)
	}
}

// TestS3ErrorHints: the failures an operator fixes (credentials, bucket,
// endpoint) say what to do, through backup.Hint too, and never show the
// secret; a MinIO started again serves the same bucket.
func TestS3ErrorHints(t *testing.T) {
	ctx := context.Background()
	mi := testenv.StartMinIO(t)
	bucket := mi.Bucket(t)
	good := s3Storage(t, mi.S3Server, bucket, "")
	if err := good.Replace(ctx, dumpA+".json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	wrong := mi.S3Server
	wrong.SecretKey = "not-the-secret-" + mi.SecretKey

	tests := []struct {
		name  string
		store *backup.S3Storage
		stop  bool
		hint  string
	}{
		{"wrong secret", s3Storage(t, wrong, bucket, ""), false, "S3_SECRET_ACCESS_KEY"},
		{"no such bucket", s3Storage(t, mi.S3Server, "no-such-bucket", ""), false, `bucket "no-such-bucket" does not exist`},
		{"server down", good, true, "cannot connect to " + mi.Endpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.stop {
				mi.Stop()
				defer mi.Start()
			}
			_, err := tt.store.List(ctx)
			if err == nil {
				t.Fatal("List succeeded")
			}
			t.Logf("List: %v", err)
			if h := backup.Hint(err); !strings.Contains(h, tt.hint) || !strings.Contains(err.Error(), h) {
				t.Errorf("Hint %q, error %q: want %q in both", h, err, tt.hint)
			}
			if strings.Contains(err.Error(), mi.SecretKey) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	// Started again, on the same port and data.
	if got := readAll(t, good, dumpA+".json"); !bytes.Equal(got, []byte("{}")) {
		t.Errorf("after restart read %q", got)
	}
}
