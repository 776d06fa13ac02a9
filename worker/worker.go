// Package worker is the asynq server that runs every cantina-ops task: one
// typed handler per task type behind one adapter (adapter.go: strict
// decoding, JSON results, final failures reported on a detached context,
// timeouts retried once), named queues with priorities, bounded retries, and
// a shutdown that fits platforms which SIGKILL 30 s after SIGTERM (tasks
// still running when the shutdown timeout ends go back to pending and run
// again elsewhere, which is why every handler is idempotent).
package worker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/metrics"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// Deps are the connections handlers use.
type Deps struct {
	Redis redis.UniversalClient // the queue Redis
	// Cache is the POS's cache Redis (CACHE_REDIS_URL); nil: Redis.
	Cache  redis.UniversalClient
	DB     *sql.DB // the POS database
	Logger *slog.Logger
	// Notifier queues notification emails; nil notifies nobody.
	Notifier *notify.Notifier
	// Backups makes, prunes and verifies backups.
	Backups *backup.Manager
	// Health are the checks of health:check (health.Standard); nil runs
	// the readiness checks only.
	Health *health.Checker
}

// handlers registers every task type's body and failure report.
func handlers(cfg *config.Config, d Deps) *registry {
	r := newRegistry()
	b := &Backups{Manager: d.Backups, Notifier: d.Notifier, Log: d.Logger,
		Count: func(ctx context.Context, result string) {
			if err := metrics.CountBackupRun(ctx, d.Redis, result); err != nil {
				d.Logger.Warn("backup run not counted in the metrics", "err", err)
			}
		}}
	register(r, d.Logger, b.Run, b.RunFailed)
	register(r, d.Logger, b.Cleanup, b.CleanupFailed)
	register(r, d.Logger, b.Verify, b.VerifyFailed)
	checker := d.Health
	if checker == nil {
		checker = health.Readiness(d.Redis, d.DB, cfg.HealthTimeout)
	}
	h := &healthTask{checker: checker, log: d.Logger,
		watch:   &notify.HealthWatch{Redis: d.Redis, Notifier: d.Notifier, Database: cfg.DB.Name, Repeat: cfg.Health.AlertRepeat},
		history: &health.History{Redis: d.Redis, Database: cfg.DB.Name}}
	register(r, d.Logger, h.run, h.failed)
	e := &emailHandler{enabled: cfg.Email.Enabled(), renderer: notify.NewRenderer(cfg),
		mailer: notify.NewSMTP(cfg.Email), log: d.Logger}
	register(r, d.Logger, e.run, nil)
	cacheRDB := d.Cache
	if cacheRDB == nil {
		cacheRDB = d.Redis
	}
	c := &cacheInvalidator{rdb: cacheRDB, ks: cache.KeyspaceOf(cfg), shared: cache.SharedWithQueue(cfg), log: d.Logger}
	register(r, d.Logger, c.run, nil)
	register(r, d.Logger, NewCacheAudit(cfg, cacheRDB, d.Logger).Run, nil)
	return r
}

// Server is the configured asynq servers and their handlers: the main one
// on tasks.Queues, and a fast one on tasks.FastQueues (cache
// invalidations) that looks for new tasks every CACHE_INVALIDATE_POLL.
type Server struct {
	srv, fast *asynq.Server
	mux       *asynq.ServeMux
	log       *slog.Logger
}

// New configures the server. d.Redis is shared, not closed by the server.
func New(cfg *config.Config, d Deps) *Server {
	log := d.Logger.With("process", "worker")
	conf := asynq.Config{
		Concurrency:     cfg.WorkerConcurrency,
		Queues:          tasks.Queues(),
		ShutdownTimeout: cfg.WorkerShutdownTimeout,
		ErrorHandler:    asynq.ErrorHandlerFunc(errorHandler(log)),
		Logger:          logging.AsynqLogger{L: log},
		LogLevel:        asynqLevel(log),
		HealthCheckFunc: func(err error) {
			if err != nil {
				log.Warn("queue redis unreachable", "err", err)
			}
		},
	}
	srv := asynq.NewServerFromRedisClient(d.Redis, conf)
	fastConf := conf
	fastConf.Queues = tasks.FastQueues()
	fastConf.TaskCheckInterval = cfg.CachePoll
	fastConf.HealthCheckFunc = nil // the main server reports an unreachable Redis
	fast := asynq.NewServerFromRedisClient(d.Redis, fastConf)
	d.Logger = log
	r := handlers(cfg, d)
	return &Server{srv: srv, fast: fast, mux: r.mux, log: log}
}

// Run processes tasks until ctx is done, then shuts down: it stops taking
// new tasks, waits up to the shutdown timeout for running ones, and puts
// the rest back to pending.
func (s *Server) Run(ctx context.Context) error {
	if err := s.srv.Start(s.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := s.fast.Start(s.mux); err != nil {
		s.srv.Shutdown()
		return fmt.Errorf("start worker (cache queue): %w", err)
	}
	s.log.Info("worker started", "queues", tasks.AllQueues())
	<-ctx.Done()
	s.log.Info("worker stopping")
	done := make(chan struct{})
	go func() { s.fast.Shutdown(); close(done) }()
	s.srv.Shutdown()
	<-done
	s.log.Info("worker stopped")
	return nil
}

// errorHandler logs every failed attempt once, saying whether asynq will
// retry it or this was the final failure (archived).
func errorHandler(log *slog.Logger) func(ctx context.Context, t *asynq.Task, err error) {
	return func(ctx context.Context, t *asynq.Task, err error) {
		id, _ := asynq.GetTaskID(ctx)
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		final := retried >= maxRetry || errors.Is(err, asynq.SkipRetry)
		log.Error("task failed",
			"task", t.Type(), "task_id", id,
			"attempt", retried+1, "max_attempts", maxRetry+1,
			"final", final, "err", err)
	}
}

func asynqLevel(log *slog.Logger) asynq.LogLevel {
	if log.Enabled(context.Background(), slog.LevelDebug) {
		return asynq.DebugLevel
	}
	return asynq.InfoLevel
}
