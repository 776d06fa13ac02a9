package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/metrics"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// listing is a backup storage's content, as the metrics read it.
type listing backup.Listing

func (l listing) List(context.Context) (backup.Listing, error) { return backup.Listing(l), nil }

var (
	finished = time.Date(2026, 11, 26, 2, 1, 30, 0, time.UTC)
	backups  = listing{Backups: []backup.Backup{
		{Name: "other-20261127T020000Z.sql.gz", Status: backup.StatusGood, Manifest: &backup.Manifest{Database: "other",
			StartedAt: finished.Add(24 * time.Hour), FinishedAt: finished.Add(25 * time.Hour), CompressedBytes: 1}},
		{Name: "pos-20261126T020000Z.sql.gz", Status: backup.StatusGood, Manifest: &backup.Manifest{Database: "pos",
			StartedAt: finished.Add(-90 * time.Second), FinishedAt: finished, CompressedBytes: 123456}},
	}}
	lastRound = health.Report{Status: health.Fail, Checks: map[string]health.Result{
		"database:responseTime": {Status: health.Pass},
		"disk:utilization":      {Status: health.Warn},
		"backups:age":           {Status: health.Fail},
	}}
)

// metricsServer serves the web handler over a fresh Redis DB holding a few
// tasks: three pending health checks, one completed and one archived
// backup run.
func metricsServer(t *testing.T, env map[string]string) *httptest.Server {
	t.Helper()
	r := testenv.Redis(t)
	vars := map[string]string{"REDIS_URL": r.URL(), "DATABASE_URL": "mysql://pos:secret@127.0.0.1:3306/pos"}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	rdb := r.Client(t)
	seedTasks(t, rdb)
	s := New(cfg, Deps{Redis: rdb, Logger: logging.Discard(), Metrics: MetricsSources{
		Backups: backups, Database: "pos",
		Health: func() (health.Report, bool) { return lastRound, true },
	}})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.close()
	})
	return ts
}

func seedTasks(t *testing.T, rdb *redis.Client) {
	t.Helper()
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	run := func(id string) {
		t.Helper()
		task, err := tasks.New(tasks.BackupRun{}, tasks.Limits{BackupTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Enqueue(task, asynq.TaskID(id)); err != nil {
			t.Fatal(err)
		}
	}

	// One backup run completes on a worker that only serves its queue.
	run("done")
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Queues: map[string]int{tasks.QueueCritical: 1},
		Concurrency: 1, Logger: logging.AsynqLogger{L: logging.Discard()}})
	if err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error { return nil })); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "backup run completed", func() bool {
		ti, err := insp.GetTaskInfo(tasks.QueueCritical, "done")
		return err == nil && ti.State == asynq.TaskStateCompleted
	})
	srv.Shutdown()

	// One fails for good.
	run("failed")
	if err := insp.ArchiveTask(tasks.QueueCritical, "failed"); err != nil {
		t.Fatal(err)
	}
	// The workers count what they finish (see worker.Backups).
	for _, result := range []string{metrics.RunSuccess, metrics.RunFailure} {
		if err := metrics.CountBackupRun(context.Background(), rdb, result); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		task, err := tasks.New(tasks.HealthCheck{}, tasks.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Enqueue(task); err != nil {
			t.Fatal(err)
		}
	}
}

// scrape GETs /metrics and parses it as Prometheus' text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the sample of fam whose labels are labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if want, ok := labels[l.GetName()]; !ok || want != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	ts := metricsServer(t, nil)
	fams := scrape(t, ts.URL)
	q := func(queue string) map[string]string { return map[string]string{"queue": queue} }
	st := func(queue, state string) map[string]string { return map[string]string{"queue": queue, "state": state} }
	tests := []struct {
		name   string
		labels map[string]string
		want   float64 // -1: present, any value
	}{
		{"asynq_queue_size", q(tasks.QueueDefault), 3},
		{"asynq_queue_size", q(tasks.QueueCritical), 2},
		{"asynq_tasks_enqueued_total", st(tasks.QueueDefault, "pending"), 3},
		{"asynq_tasks_enqueued_total", st(tasks.QueueCritical, "completed"), 1},
		{"asynq_tasks_enqueued_total", st(tasks.QueueCritical, "archived"), 1},
		{"asynq_tasks_enqueued_total", st(tasks.QueueCritical, "active"), 0},
		{"asynq_tasks_enqueued_total", st(tasks.QueueCritical, "scheduled"), 0},
		{"asynq_tasks_enqueued_total", st(tasks.QueueCritical, "retry"), 0},
		{"asynq_queue_latency_seconds", q(tasks.QueueDefault), -1},
		{"asynq_queue_memory_usage_approx_bytes", q(tasks.QueueDefault), -1},
		{"asynq_tasks_processed_total", q(tasks.QueueCritical), 1},
		{"asynq_tasks_failed_total", q(tasks.QueueCritical), 0},
		{"asynq_queue_paused_total", q(tasks.QueueDefault), 0},
		{"cantina_backup_last_success_timestamp_seconds", map[string]string{"database": "pos"}, float64(finished.Unix())},
		{"cantina_backup_duration_seconds", map[string]string{"database": "pos"}, 90},
		{"cantina_backup_size_bytes", map[string]string{"database": "pos"}, 123456},
		{"cantina_backup_runs_total", map[string]string{"result": "success"}, 1},
		{"cantina_backup_runs_total", map[string]string{"result": "failure"}, 1},
		{"cantina_health_check_status", map[string]string{"check": "database:responseTime"}, 0},
		{"cantina_health_check_status", map[string]string{"check": "disk:utilization"}, 1},
		{"cantina_health_check_status", map[string]string{"check": "backups:age"}, 2},
		{"go_goroutines", nil, -1},
		{"process_cpu_seconds_total", nil, -1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.name, tt.labels), func(t *testing.T) {
			got, ok := value(t, fams, tt.name, tt.labels)
			switch {
			case !ok:
				t.Errorf("no %s%v in /metrics", tt.name, tt.labels)
			case tt.want >= 0 && got != tt.want:
				t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
			}
		})
	}
	// Help strings are asynq's x/metrics collector's, for its dashboards.
	if got := fams["asynq_queue_size"].GetHelp(); got != "Number of tasks in a queue" {
		t.Errorf("asynq_queue_size help = %q", got)
	}
	if got := fams["asynq_tasks_enqueued_total"].GetType(); got != dto.MetricType_GAUGE {
		t.Errorf("asynq_tasks_enqueued_total type = %s, want gauge as asynq's collector", got)
	}
}

func TestMetricsToken(t *testing.T) {
	ts := metricsServer(t, map[string]string{"METRICS_TOKEN": "s3cret-token"})
	tests := []struct {
		name string
		auth string
		code int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"token without Bearer", "s3cret-token", http.StatusUnauthorized},
		{"basic auth", "Basic czNjcmV0LXRva2Vu", http.StatusUnauthorized},
		{"right token", "Bearer s3cret-token", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, http.MethodGet, ts.URL+"/metrics", func(r *http.Request) {
				if tt.auth != "" {
					r.Header.Set("Authorization", tt.auth)
				}
			})
			if res.code != tt.code {
				t.Fatalf("status %d, want %d: %s", res.code, tt.code, res.body)
			}
			if tt.code == http.StatusUnauthorized {
				if !strings.HasPrefix(res.hdr.Get("Content-Type"), "application/json") || !strings.Contains(res.body, `"error"`) {
					t.Errorf("401 is not a JSON error: %s %s", res.hdr.Get("Content-Type"), res.body)
				}
				if res.hdr.Get("WWW-Authenticate") == "" || strings.Contains(res.body, "s3cret") {
					t.Errorf("401 without WWW-Authenticate or leaking the token: %v %s", res.hdr, res.body)
				}
			} else if !strings.Contains(res.body, "asynq_queue_size") {
				t.Errorf("authorised scrape has no queue metrics:\n%s", res.body)
			}
		})
	}
	if res := do(t, http.MethodPost, ts.URL+"/metrics", nil); res.code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", res.code)
	}
}
