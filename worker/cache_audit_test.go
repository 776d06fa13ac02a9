package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// TestCacheAuditTask: a worker runs cache:audit on the cache Redis (not
// the queue's), stores the report as the task's result and logs a warning
// naming the kinds with keys without a TTL or over CACHE_TTLS; a clean
// keyspace logs no warning.
func TestCacheAuditTask(t *testing.T) {
	tests := []struct {
		name    string
		plant   map[string]time.Duration // logical key → TTL (0: none)
		noTTL   int64
		over    int64
		warning string
	}{
		{"findings", map[string]time.Duration{"productos:1": time.Minute, "productos:2": time.Hour, "dashboard:1": 0}, 1, 1,
			"1 productos keys over the policy of 5m0s, 1 dashboard keys without TTL"},
		{"clean", map[string]time.Duration{"productos:1": time.Minute, "dashboard:1": 30 * time.Second}, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			queue, cacheDB := testenv.Redis(t), testenv.Redis(t)
			vars := map[string]string{"REDIS_URL": queue.URL(), "CACHE_REDIS_URL": cacheDB.URL(), "DATABASE_URL": "mysql://cantina:unused@127.0.0.1:1/cantina",
				"CACHE_KEY_PREFIX": "pos", "CACHE_VERSION": "2", "CACHE_TTLS": "productos=5m,dashboard=1m"}
			cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			crdb := cacheDB.Client(t)
			ks := cache.Keyspace{Prefix: "pos", Version: 2}
			for k, ttl := range tt.plant {
				if err := crdb.Set(ctx, ks.Key(k), "v", ttl).Err(); err != nil {
					t.Fatal(err)
				}
			}
			logs := &testenv.SyncBuffer{}
			log := logging.New(logs, logging.Options{Level: slog.LevelInfo, Format: "json"})
			qrdb := queue.Client(t)
			srv := New(cfg, Deps{Redis: qrdb, Cache: crdb, Logger: log})
			wctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); _ = srv.Run(wctx) }()
			t.Cleanup(func() { cancel(); <-done })

			task, err := tasks.New(tasks.CacheAudit{}, tasks.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			info, err := asynq.NewClientFromRedisClient(qrdb).Enqueue(task)
			if err != nil {
				t.Fatal(err)
			}
			insp := asynq.NewInspectorFromRedisClient(qrdb)
			var ti *asynq.TaskInfo
			testenv.Eventually(t, 30*time.Second, "cache:audit completed", func() bool {
				ti, err = insp.GetTaskInfo(tasks.QueueLow, info.ID)
				return err == nil && ti.State == asynq.TaskStateCompleted
			})
			var rep cache.AuditReport
			if err := json.Unmarshal(ti.Result, &rep); err != nil {
				t.Fatalf("result is not an audit report: %v: %s", err, ti.Result)
			}
			if rep.Sampled != int64(len(tt.plant)) || rep.NoTTL != tt.noTTL || rep.OverPolicy != tt.over || rep.Server.MaxMemoryPolicy == "" {
				t.Errorf("report %s", ti.Result)
			}
			warned := strings.Contains(logs.String(), `"level":"WARN","msg":"cache audit`)
			if warned != (tt.warning != "") || !strings.Contains(logs.String(), tt.warning) {
				t.Errorf("warning logged %v, want %q:\n%s", warned, tt.warning, logs.String())
			}
		})
	}
}
