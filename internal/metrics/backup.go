package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/tasks"
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
		"backup:run tasks that asynq still keeps, by result: success (completed, kept 7 days) or failure (archived after its last attempt).",
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

// backupRunsCollector counts the finished backup:run tasks asynq keeps in
// their queue. It is a count over asynq's retention, not a counter since
// start: an expiring completed task makes it go down.
type backupRunsCollector struct {
	insp *asynq.Inspector
}

func (c *backupRunsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- backupRunsDesc }

func (c *backupRunsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range []struct {
		result string
		list   func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	}{
		{"success", c.insp.ListCompletedTasks},
		{"failure", c.insp.ListArchivedTasks},
	} {
		n, err := countType(r.list, tasks.QueueCritical, tasks.TypeBackupRun)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(backupRunsDesc, fmt.Errorf("count %s backup runs: %w", r.result, err))
			continue
		}
		ch <- prometheus.MustNewConstMetric(backupRunsDesc, prometheus.GaugeValue, float64(n), r.result)
	}
}

// countType counts the tasks of type typ that list returns for queue, page
// by page. A queue that does not exist yet holds none.
func countType(list func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error), queue, typ string) (int, error) {
	const size = 500
	n := 0
	for page := 1; ; page++ {
		infos, err := list(queue, asynq.Page(page), asynq.PageSize(size))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		for _, ti := range infos {
			if ti.Type == typ {
				n++
			}
		}
		if len(infos) < size {
			return n, nil
		}
	}
}
