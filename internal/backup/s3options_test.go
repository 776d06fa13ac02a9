package backup

import (
	"strings"
	"testing"
)

func TestNewS3Storage(t *testing.T) {
	const secret = "sEcReT-do-not-print"
	ok := S3Options{AccessKeyID: "AKID", SecretAccessKey: secret, Bucket: "cantina-backups"}
	tests := []struct {
		name     string
		change   func(*S3Options)
		endpoint string // want: scheme://host
		str      string // want String()
		errs     []string
	}{
		{name: "AWS by default", change: func(*S3Options) {}, endpoint: "https://s3.amazonaws.com", str: "s3://cantina-backups"},
		{name: "host:port is HTTPS", change: func(o *S3Options) { o.Endpoint = "minio.lan:9000"; o.Prefix = "/prod/cantina/" },
			endpoint: "https://minio.lan:9000", str: "s3://cantina-backups/prod/cantina"},
		{name: "http scheme", change: func(o *S3Options) { o.Endpoint = "http://127.0.0.1:9100" }, endpoint: "http://127.0.0.1:9100"},
		{name: "https scheme, R2", change: func(o *S3Options) { o.Endpoint = "https://0123abcd.r2.cloudflarestorage.com/"; o.Region = "auto" },
			endpoint: "https://0123abcd.r2.cloudflarestorage.com"},
		{name: "B2", change: func(o *S3Options) { o.Endpoint = "s3.eu-central-003.backblazeb2.com" }, endpoint: "https://s3.eu-central-003.backblazeb2.com"},
		{name: "bad scheme", change: func(o *S3Options) { o.Endpoint = "ftp://host" }, errs: []string{"https:// or http://"}},
		{name: "path in endpoint", change: func(o *S3Options) { o.Endpoint = "https://host/bucket" }, errs: []string{"without a path"}},
		{name: "user in endpoint", change: func(o *S3Options) { o.Endpoint = "https://user:" + secret + "@host" }, errs: []string{"must not hold credentials"}},
		{name: "no bucket, no keys, tiny parts", change: func(o *S3Options) {
			o.Bucket, o.AccessKeyID, o.SecretAccessKey, o.PartSize = "", "", "", 1<<20
		}, errs: []string{"bucket", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "part size 1048576"}},
		{name: "bad bucket", change: func(o *S3Options) { o.Bucket = "Bad_Bucket" }, errs: []string{`bucket "Bad_Bucket"`}},
		{name: "dot-dot prefix", change: func(o *S3Options) { o.Prefix = "a/../b" }, errs: []string{"prefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.change(&o)
			s, err := NewS3Storage(o)
			if len(tt.errs) > 0 {
				if err == nil {
					t.Fatalf("no error for %+v", o)
				}
				for _, w := range tt.errs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.endpoint != tt.endpoint {
				t.Errorf("endpoint %q, want %q", s.endpoint, tt.endpoint)
			}
			if tt.str != "" && s.String() != tt.str {
				t.Errorf("String() = %q, want %q", s.String(), tt.str)
			}
			if s.partSize != DefaultS3PartSize {
				t.Errorf("part size %d", s.partSize)
			}
		})
	}
}

func TestS3TempName(t *testing.T) {
	name := "cantina-20250301T020000Z.sql.gz"
	a, b := s3TempName(name, "upload-1"), s3TempName(name, "upload-2")
	if a == b || len(a) != len("."+name+".tmp-")+s3TempHashLen {
		t.Fatalf("temp names %q, %q", a, b)
	}
	if k, d := classifyName(a); k != kindTemp || d != name {
		t.Errorf("classifyName(%q) = %v, %q", a, k, d)
	}
}
