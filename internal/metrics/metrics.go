// Package metrics exposes cantina-ops to Prometheus on a private registry:
//
//   - queue.go: asynq's queues under the names and help strings of asynq's
//     x/metrics collector (asynq_queue_size, asynq_tasks_enqueued_total …),
//     read through an asynq.Inspector on each scrape, so dashboards built
//     for that collector work unchanged without its old go-redis v8 module;
//   - backup.go: backups as Velero and gobackup name them
//     (cantina_backup_last_success_timestamp_seconds, _duration_seconds,
//     _size_bytes from the newest good backup's manifest, and
//     cantina_backup_runs_total{result} from asynq's finished backup:run
//     tasks);
//   - health.go: cantina_health_check_status{check}, 0 pass, 1 warn, 2 fail,
//     from the last health round;
//   - the Go runtime and process collectors.
//
// The web process serves Handler at /metrics.
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/health"
)

// Sources are what the metrics are read from. Queues is required; a nil
// Backups or Health leaves those metrics out.
type Sources struct {
	Queues *asynq.Inspector
	// Redis is the queue Redis, which keeps the backup run counts.
	Redis redis.UniversalClient
	// Backups lists the backup storage; Database picks whose backups count.
	Backups  BackupLister
	Database string
	// Health returns the last health report, false when there is none yet.
	Health func() (health.Report, bool)
}

// NewRegistry registers every collector of s on a new registry.
func NewRegistry(s Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&queueCollector{insp: s.Queues},
		&backupRunsCollector{rdb: s.Redis},
	)
	if s.Backups != nil {
		reg.MustRegister(newBackupCollector(s.Backups, s.Database))
	}
	if s.Health != nil {
		reg.MustRegister(&healthCollector{last: s.Health})
	}
	return reg
}

// scrapeTimeout bounds one scrape; Prometheus' own default is 10 s.
const scrapeTimeout = 10 * time.Second

// Handler serves reg in the Prometheus text format. A source that fails
// (Redis down, storage unreadable) leaves its metrics out and is logged;
// the others are still served.
func Handler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.With("component", "metrics").Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       scrapeTimeout,
	})
}
