package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/setup"
	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/conn"
	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/scheduler"
	"github.com/cantina-pos/cantina-ops/web"
	"github.com/cantina-pos/cantina-ops/worker"
)

// process is one long-running part of cantina-ops.
type process interface {
	Run(ctx context.Context) error
}

// deps are the connections the processes share.
type deps struct {
	cfg *config.Config
	log *slog.Logger
	rdb *redis.Client
	db  *sql.DB

	cacheOnce sync.Once
	cache     redis.UniversalClient // the POS's cache Redis; rdb when it is the same URL
	probeOnce sync.Once
	probe     *sql.DB // a pool that keeps no idle connection, for database:responseTime
}

func openDeps(a *app) (*deps, error) {
	cfg, log, err := a.load()
	if err != nil {
		return nil, err
	}
	db, err := conn.DB(cfg.DB)
	if err != nil {
		return nil, err
	}
	return &deps{cfg: cfg, log: log, rdb: conn.Redis(cfg.Redis), db: db}, nil
}

func (d *deps) close() {
	_ = d.rdb.Close()
	_ = d.db.Close()
	if d.cache != nil && d.cache != d.rdb {
		_ = d.cache.Close()
	}
	if d.probe != nil {
		_ = d.probe.Close()
	}
}

// probeDB is a pool on the database that keeps no idle connection: each
// database:responseTime check connects anew (at most one at a time).
func (d *deps) probeDB() *sql.DB {
	d.probeOnce.Do(func() {
		db, err := conn.DB(d.cfg.DB)
		if err != nil { // the same config opened d.db: it cannot fail here
			d.log.Warn("health: no separate probe pool; database:responseTime reuses pooled connections", "err", err)
			return
		}
		db.SetMaxIdleConns(0)
		db.SetMaxOpenConns(1)
		d.probe = db
	})
	return d.probe
}

// cacheRedis is the POS's cache Redis (CACHE_REDIS_URL), sharing the queue
// Redis client when both URLs are the same.
func (d *deps) cacheRedis() redis.UniversalClient {
	d.cacheOnce.Do(func() {
		d.cache = d.rdb
		if !cache.SharedWithQueue(d.cfg) {
			d.cache = conn.CacheRedis(d.cfg.CacheRedis, d.cfg.CacheRedisCluster)
		}
	})
	return d.cache
}

func (d *deps) web() process {
	listing := d.listing()
	return web.New(d.cfg, web.Deps{Redis: d.rdb, DB: d.db, Logger: d.log, Health: d.healthChecker(listing), Version: version,
		Limits: d.cacheRedis(), Backups: listing,
		Metrics: web.MetricsSources{Backups: listing, Database: d.cfg.DB.Name}})
}

// healthChecker is every health check (health.Standard): behind /health/,
// `health` and the health:check task.
func (d *deps) healthChecker(backups *backup.Manager) *health.Checker {
	var dests []string
	for _, dst := range d.cfg.BackupStorage {
		dests = append(dests, dst.Name)
	}
	return health.Standard(health.Deps{
		DB: d.db, Connect: d.probeDB(), Queue: d.rdb, Cache: d.cacheRedis(), Inspector: asynq.NewInspectorFromRedisClient(d.rdb),
		Backups: health.AllDestinations{Manager: backups}, Destinations: dests, BackupDir: d.cfg.BackupDir, Database: d.cfg.DB.Name,
		Thresholds: d.cfg.Health, RateLimitFailOpen: d.cfg.RateLimit.FailOpen, Timeout: d.cfg.HealthTimeout, Logger: d.log,
	})
}

func (d *deps) worker() (process, error) {
	backups, err := d.backups()
	if err != nil {
		return nil, err
	}
	return worker.New(d.cfg, worker.Deps{Redis: d.rdb, DB: d.db, Logger: d.log, Notifier: d.notifier(), Backups: backups,
		Health: d.healthChecker(backups), Cache: d.cacheRedis()}), nil
}

// listing is the backup manager without a dump engine: it lists, which is
// all the web process, the scheduler and the health checks need.
func (d *deps) listing() *backup.Manager {
	return setup.Listing(d.cfg, d.db, version, d.log)
}

// backups is the backup manager of the configured database.
func (d *deps) backups() (*backup.Manager, error) {
	return setup.Manager(d.cfg, d.db, version, d.log)
}

// notifier queues notification emails on the queue Redis. It logs once
// whether notifications are on, so build one per process.
func (d *deps) notifier() *notify.Notifier {
	return notify.New(d.cfg, asynq.NewClientFromRedisClient(d.rdb), d.log)
}

func (d *deps) scheduler() (process, error) {
	entries, err := scheduler.Entries(d.cfg)
	if err != nil {
		return nil, err
	}
	opts := scheduler.Options{BackupCatchUp: d.cfg.BackupCatchUp}
	if d.cfg.BackupCatchUp > 0 { // BACKUP_CATCHUP=off: no catch-up backups
		opts.Backups = d.listing()
	}
	return scheduler.New(d.rdb, conn.AsynqRedis{R: d.cfg.Redis}, d.cfg.ScheduleTZ, entries, opts, d.log)
}

// runProcesses runs the named processes until ctx is done or one fails;
// a failure stops the others. It returns the first error.
func runProcesses(ctx context.Context, a *app, args []string, name string, which func(*deps) ([]process, error)) error {
	fs := newFlags(a, name, "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDeps(a)
	if err != nil {
		return err
	}
	defer d.close()
	procs, err := which(d)
	if err != nil {
		return err
	}
	d.log.Info("cantina-ops starting", "command", name, "version", version)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Run(ctx); err != nil {
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	d.log.Info("cantina-ops stopped", "command", name)
	return nil
}

func runWeb(ctx context.Context, a *app, args []string) error {
	return runProcesses(ctx, a, args, "web", func(d *deps) ([]process, error) {
		return []process{d.web()}, nil
	})
}

func runWorker(ctx context.Context, a *app, args []string) error {
	return runProcesses(ctx, a, args, "worker", func(d *deps) ([]process, error) {
		w, err := d.worker()
		return []process{w}, err
	})
}

func runScheduler(ctx context.Context, a *app, args []string) error {
	return runProcesses(ctx, a, args, "scheduler", func(d *deps) ([]process, error) {
		s, err := d.scheduler()
		return []process{s}, err
	})
}

func runAll(ctx context.Context, a *app, args []string) error {
	return runProcesses(ctx, a, args, "all", func(d *deps) ([]process, error) {
		w, err := d.worker()
		if err != nil {
			return nil, err
		}
		s, err := d.scheduler()
		return []process{d.web(), w, s}, err
	})
}
