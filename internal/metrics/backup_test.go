package metrics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cantina-pos/cantina-ops/internal/backup"
)

// storage is a backup storage whose listing the test sets; lists counts
// the listings.
type storage struct {
	l     backup.Listing
	err   error
	lists int
}

func (s *storage) List(context.Context) (backup.Listing, error) {
	s.lists++
	return s.l, s.err
}

// gather collects c alone and returns sample values by metric name.
func gather(t *testing.T, c prometheus.Collector) (map[string]float64, error) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			out[f.GetName()] = m.GetGauge().GetValue()
		}
	}
	return out, err
}

func TestBackupCollector(t *testing.T) {
	started := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	good := backup.Backup{Name: "pos-1.sql.gz", Status: backup.StatusGood, Manifest: &backup.Manifest{
		Database: "pos", StartedAt: started, FinishedAt: started.Add(2 * time.Minute), CompressedBytes: 42}}
	corrupt := backup.Backup{Name: "pos-2.sql.gz", Status: backup.StatusCorrupt, Manifest: &backup.Manifest{
		Database: "pos", StartedAt: started.Add(time.Hour), FinishedAt: started.Add(time.Hour + time.Minute), CompressedBytes: 7}}
	tests := []struct {
		name    string
		storage storage
		want    map[string]float64
		wantErr bool
	}{
		{"newest good backup, a newer corrupt one ignored", storage{l: backup.Listing{Backups: []backup.Backup{corrupt, good}}},
			map[string]float64{
				"cantina_backup_last_success_timestamp_seconds": float64(started.Add(2 * time.Minute).Unix()),
				"cantina_backup_duration_seconds":               120,
				"cantina_backup_size_bytes":                     42,
			}, false},
		{"no good backup: last success 0, no duration or size", storage{l: backup.Listing{Backups: []backup.Backup{corrupt}}},
			map[string]float64{"cantina_backup_last_success_timestamp_seconds": 0}, false},
		{"storage unreadable: an error, no value", storage{err: errors.New("disk gone")}, map[string]float64{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gather(t, newBackupCollector(&tt.storage, "pos"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("gather error %v, want error %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for name, v := range tt.want {
				if got[name] != v {
					t.Errorf("%s = %v, want %v", name, got[name], v)
				}
			}
		})
	}
}

// TestBackupListingCached: scrapes within the TTL share one listing.
func TestBackupListingCached(t *testing.T) {
	s := &storage{}
	c := newBackupCollector(s, "pos")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	for _, step := range []struct {
		advance time.Duration
		lists   int
	}{{0, 1}, {c.ttl - time.Second, 1}, {time.Second, 2}, {time.Second, 2}} {
		now = now.Add(step.advance)
		if _, err := gather(t, c); err != nil {
			t.Fatal(err)
		}
		if s.lists != step.lists {
			t.Fatalf("after +%s: %d listings, want %d", step.advance, s.lists, step.lists)
		}
	}
}
