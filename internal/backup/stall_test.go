package backup_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestRunS3StallsLocalKept: the S3 server stops answering (a proxy that
// forwards only the first 64 KiB), once in the middle of the dump (a part
// upload that never ends: the destination's queue fills) and once at the
// completion (the whole dump fits in one part, sent when the upload is
// committed). Either way the stall timeout drops S3 alone: the local copy
// is complete and verified, Run returns a PartialError naming s3 and the
// stall, and the bucket has nothing under the final name.
func TestRunS3StallsLocalKept(t *testing.T) {
	for _, tc := range []struct {
		name string
		sql  string
	}{
		{"mid-stream", fakeSQL(80000)}, // ~6 MB of gzip: more than a 5 MiB part
		{"at completion", ""},          // bigDump: 1.5 MB, one part
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m, _ := newManager(t)
			m.Engine = &fakeEngine{db: m.Database, big: tc.sql == "", sql: tc.sql}
			m.StallTimeout = time.Second
			srv, bucket := testenv.S3Bucket(t)
			u, err := url.Parse(srv.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			proxy := startFreezingProxy(t, u.Host, 64<<10)
			via := srv
			via.Endpoint = "http://" + proxy.Addr()
			first := m.Storage
			m.Destinations = []backup.Destination{
				{Name: "file", Storage: first},
				{Name: "s3", Where: "s3://" + bucket + "/p", Storage: s3Storage(t, via, bucket, "p")},
			}
			man, err := m.Run(ctx, backup.RunOptions{})
			var pe *backup.PartialError
			if !errors.As(err, &pe) || !slices.Equal(pe.FailedDestinations(), []string{"s3"}) {
				t.Fatalf("Run: %v, want a PartialError for s3", err)
			}
			if !strings.Contains(err.Error(), "took no data for 1s") {
				t.Errorf("the error does not say the destination stalled: %v", err)
			}
			if got := goodNames(t, m, "file"); !slices.Equal(got, []string{man.Name}) {
				t.Errorf("local copy: %v, want [%s]", got, man.Name)
			}
			if _, err := srv.Client(t).StatObject(ctx, bucket, "p/"+man.Name, minio.StatObjectOptions{}); err == nil {
				t.Errorf("the bucket has %s although its upload stalled", man.Name)
			}
		})
	}
}

// TestRunFirstDestinationFails: the first destination cannot be reached;
// the second gets the backup, and Run's manifest is that copy's.
func TestRunFirstDestinationFails(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t)
	first, second := twoDestinations(t, m, nil)
	m.Destinations[0].Storage = unlistable{first}
	man, err := m.Run(ctx, backup.RunOptions{})
	var pe *backup.PartialError
	if !errors.As(err, &pe) || !slices.Equal(pe.Stored, []string{"s3"}) || !slices.Equal(pe.FailedDestinations(), []string{"file"}) {
		t.Fatalf("Run: %v", err)
	}
	if man.Verified == nil || man.Name == "" {
		t.Fatalf("manifest of the stored copy: %+v", man)
	}
	if s := snapshot(t, second.Dir()); s[man.Name] == "" || s[man.Name+".json"] == "" {
		t.Errorf("second destination: %v", s)
	}
}
