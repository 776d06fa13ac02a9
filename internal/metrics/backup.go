package metrics

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/backup"
)

// BackupLister lists the backup storage; *backup.Manager is one.
type BackupLister interface {
	List(ctx context.Context) (backup.Listing, error)
}

var _ BackupLister = (*backup.Manager)(nil)

var (
	backupLastSuccessDesc = prometheus.NewDesc("cantina_backup_last_success_timestamp_seconds",
		"When the newest good backup finished, as a Unix time; 0 when there is no good backup.", []string{"database"}, nil)
	backupDurationDesc = prometheus.NewDesc("cantina_backup_duration_seconds",
		"How long the newest good backup took.", []string{"database"}, nil)
	backupSizeDesc = prometheus.NewDesc("cantina_backup_size_bytes",
		"Size of the newest good backup's compressed dump.", []string{"database"}, nil)
	backupRunsDesc = prometheus.NewDesc("cantina_backup_runs_total",
		"Backup runs finished by the workers, by result: success (a new backup) or failure (the run failed for good).",
		[]string{"result"}, nil)
)

// backupListingTTL is how long a storage listing serves scrapes: a listing
// reads every manifest, which on S3 is a request each.
const backupListingTTL = 30 * time.Second

// backupCollector reports the newest good backup of one database.
type backupCollector struct {
	list     BackupLister
	database string
	ttl      time.Duration
	now      func() time.Time

	mu     sync.Mutex
	at     time.Time
	newest backup.Backup
	found  bool
}

func newBackupCollector(l BackupLister, database string) *backupCollector {
	return &backupCollector{list: l, database: database, ttl: backupListingTTL, now: time.Now}
}

func (c *backupCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backupLastSuccessDesc
	ch <- backupDurationDesc
	ch <- backupSizeDesc
}

func (c *backupCollector) Collect(ch chan<- prometheus.Metric) {
	b, ok, err := c.latest()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backupLastSuccessDesc, err)
		return
	}
	if !ok {
		ch <- prometheus.MustNewConstMetric(backupLastSuccessDesc, prometheus.GaugeValue, 0, c.database)
		return
	}
	m := b.Manifest
	ch <- prometheus.MustNewConstMetric(backupLastSuccessDesc, prometheus.GaugeValue, float64(m.FinishedAt.UnixMilli())/1e3, c.database)
	ch <- prometheus.MustNewConstMetric(backupDurationDesc, prometheus.GaugeValue, m.FinishedAt.Sub(m.StartedAt).Seconds(), c.database)
	ch <- prometheus.MustNewConstMetric(backupSizeDesc, prometheus.GaugeValue, float64(m.CompressedBytes), c.database)
}

// latest returns the newest good backup, listing the storage at most once
// per ttl.
func (c *backupCollector) latest() (backup.Backup, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.at.IsZero() && now.Sub(c.at) < c.ttl {
		return c.newest, c.found, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	l, err := c.list.List(ctx)
	if err != nil {
		return backup.Backup{}, false, fmt.Errorf("list backups: %w", err)
	}
	c.newest, c.found = l.Latest(c.database)
	c.at = now
	return c.newest, c.found, nil
}

// BackupRunsKey is the queue Redis hash that counts finished backup runs
// by result ("success", "failure"): a counter every worker adds to and
// every web replica reports, as long as the queue Redis keeps its data.
const BackupRunsKey = "cantina:metrics:backup_runs"

// Backup run results, the label of cantina_backup_runs_total.
const (
	RunSuccess = "success"
	RunFailure = "failure"
)

// CountBackupRun adds one finished backup run with result (RunSuccess, or
// RunFailure for a run that failed for good).
func CountBackupRun(ctx context.Context, rdb redis.UniversalClient, result string) error {
	if err := rdb.HIncrBy(ctx, BackupRunsKey, result, 1).Err(); err != nil {
		return fmt.Errorf("count backup run: %w", err)
	}
	return nil
}

// backupRunsCollector reports the counts CountBackupRun keeps.
type backupRunsCollector struct {
	rdb redis.UniversalClient
}

func (c *backupRunsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- backupRunsDesc }

func (c *backupRunsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.rdb.HGetAll(ctx, BackupRunsKey).Result()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backupRunsDesc, fmt.Errorf("read backup run counts: %w", err))
		return
	}
	for _, result := range []string{RunSuccess, RunFailure} {
		n, _ := strconv.ParseFloat(counts[result], 64) // absent: 0
		ch <- prometheus.MustNewConstMetric(backupRunsDesc, prometheus.CounterValue, n, result)
	}
}
