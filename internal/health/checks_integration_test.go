package health

import (
	"context"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/native"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/notify/notifytest"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// contract lists the standard checks' keys, as the README documents them.
var contract = []string{
	"backups:age", "backups:lastRun", "backups:restoreTime", "cache:evictions", "cache:hitRatio", "cache:responseTime",
	"cpu:utilization", "database:connections", "database:responseTime", "disk:utilization",
	"memory:utilization", "queue:memory", "queue:responseTime", "queues:latency", "queues:workers", "ratelimit:redis",
	"scheduler:leader",
}

// fixture is a POS database, a queue Redis and a cache Redis (databases
// of the test servers), a backup manager on a temp dir, and the Deps of
// the standard checks on them, with the configuration's default
// thresholds.
type fixture struct {
	srv    testenv.MySQLServer
	dbName string
	queue  *redis.Client
	cache  testenv.RedisDB
	mgr    *backup.Manager
	d      Deps
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv, name := testenv.MySQLDatabase(t)
	db := srv.Open(t, name)
	qr, cr := testenv.Redis(t), testenv.Redis(t)
	queue := qr.Client(t)
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"DATABASE_URL": srv.URL(name), "REDIS_URL": qr.URL()}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mgr := &backup.Manager{DB: db, Database: name, Engine: native.New(srv.Config(name), native.Options{}),
		Storage: backup.NewDirStorage(dir), Version: "test"}
	insp := asynq.NewInspectorFromRedisClient(queue)
	return &fixture{srv: srv, dbName: name, queue: queue, cache: cr, mgr: mgr, d: Deps{
		DB: db, Queue: queue, Cache: cr.Client(t), Inspector: insp, Backups: mgr,
		BackupDir: dir, Database: name, Thresholds: cfg.Health, Timeout: 5 * time.Second,
	}}
}

// run runs the standard checks named keys (all of them without keys).
func run(t *testing.T, d Deps, keys ...string) map[string]Result {
	t.Helper()
	c := Standard(d)
	if len(keys) > 0 {
		c.Checks = slices.DeleteFunc(c.Checks, func(chk Check) bool { return !slices.Contains(keys, chk.Name) })
		if len(c.Checks) != len(keys) {
			t.Fatalf("unknown keys among %v", keys)
		}
	}
	return c.Run(context.Background()).Checks
}

// want fails the test unless each named result has the status and an
// output containing the text.
func want(t *testing.T, res map[string]Result, status Status, output string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		r := res[k]
		if r.Status != status || !strings.Contains(r.Output, output) {
			t.Errorf("%s: %s %q, want %s with %q", k, r.Status, r.Output, status, output)
		}
	}
}

// startWorker runs an asynq server on the queue Redis that completes every
// backup:run, until the test ends.
func startWorker(t *testing.T, queue redis.UniversalClient) {
	t.Helper()
	srv := asynq.NewServerFromRedisClient(queue, asynq.Config{Queues: tasks.Queues(), Concurrency: 1, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeBackupRun, func(context.Context, *asynq.Task) error { return nil })
	if err := srv.Start(mux); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(srv.Shutdown)
}

// holdLease makes the queue Redis look like a scheduler leads.
func holdLease(t *testing.T, queue *redis.Client, ttl time.Duration) {
	t.Helper()
	if err := queue.Set(context.Background(), tasks.SchedulerLeaseKey, "test-leader", ttl).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestStandardAllPass: with a fresh verified backup, a worker and a
// scheduler leader, every check of the contract passes with an observed
// value and unit. The CPU, memory and disk thresholds are out of reach:
// the shared test machine's load is not under test here
// (TestSystemThresholds trips them).
func TestStandardAllPass(t *testing.T) {
	f := newFixture(t)
	testenv.ExecAll(t, f.d.DB, "CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(50))",
		"INSERT INTO products VALUES (1, 'Zumo')")
	if _, err := f.mgr.Run(context.Background(), backup.RunOptions{Trigger: backup.TriggerCLI}); err != nil {
		t.Fatalf("backup: %v", err)
	}
	startWorker(t, f.queue)
	holdLease(t, f.queue, 30*time.Second)
	f.d.Thresholds.CPUWarn, f.d.Thresholds.CPUFail = 101, 101
	f.d.Thresholds.MemoryWarn, f.d.Thresholds.MemoryFail = 101, 101
	f.d.Thresholds.DiskWarn, f.d.Thresholds.DiskFail = 101, 101

	var res map[string]Result
	testenv.Eventually(t, 10*time.Second, "the worker's heartbeat", func() bool {
		res = run(t, f.d)
		return res[KeyQueuesWorkers].Status == Pass
	})
	if got := slices.Sorted(maps.Keys(res)); !slices.Equal(got, contract) {
		t.Fatalf("keys %v, want %v", got, contract)
	}
	for _, k := range contract {
		r := res[k]
		if r.Status != Pass || r.Output == "" || r.Threshold == "" {
			t.Errorf("%s: %s %q (threshold %q)", k, r.Status, r.Output, r.Threshold)
		}
		if k != KeyBackupsLastRun && k != KeyBackupsRestoreTime && (r.ObservedValue == nil || r.ObservedUnit == "" && k != KeyRateLimitRedis) {
			t.Errorf("%s: observed %v %q", k, r.ObservedValue, r.ObservedUnit)
		}
	}
	if !strings.Contains(res[KeyCPUUtilization].Output, "per core") {
		t.Errorf("cpu output %q lacks the load per core", res[KeyCPUUtilization].Output)
	}
	if !strings.Contains(res[KeyCacheHitRatio].Output, "queue Redis too") {
		t.Errorf("the test's cache and queue share a server; hit ratio output %q does not say so", res[KeyCacheHitRatio].Output)
	}
}

// TestDatabaseStopped: both database checks fail with our hint when the
// server goes away; the others do not care.
func TestDatabaseStopped(t *testing.T) {
	f := newFixture(t)
	proxy := notifytest.NewProxy(t, fmt.Sprintf("%s:%d", f.srv.Host, f.srv.Port))
	via := f.srv
	via.Host, via.Port = "127.0.0.1", proxy.Port()
	f.d.DB = via.Open(t, f.dbName)
	keys := []string{KeyDatabaseResponseTime, KeyDatabaseConnections, KeyQueueResponseTime}
	want(t, run(t, f.d, keys...), Pass, "", keys...)

	proxy.Cut()
	// Drop the pool's idle connections: whether the driver notices a cut
	// idle connection before using it is a race ("the connection was
	// closed" instead); a stopped server is what a new connection meets.
	f.d.DB.SetMaxIdleConns(0)
	res := run(t, f.d, keys...)
	want(t, res, Fail, "cannot connect to the database (connection refused)", KeyDatabaseResponseTime, KeyDatabaseConnections)
	want(t, res, Pass, "", KeyQueueResponseTime)
}

// TestCacheStopped: the cache checks fail when the cache Redis is down;
// the queue Redis's do not.
func TestCacheStopped(t *testing.T) {
	f := newFixture(t)
	proxy := notifytest.NewProxy(t, f.cache.Addr)
	c := redis.NewClient(&redis.Options{Addr: proxy.Addr(), DB: f.cache.DB, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	f.d.Cache = c
	keys := []string{KeyCacheResponseTime, KeyCacheHitRatio, KeyCacheEvictions, KeyQueueResponseTime}
	want(t, run(t, f.d, keys...), Pass, "", keys...)

	proxy.Cut()
	// A fresh client, as for the database above: a pooled connection the
	// cut reaches late says "the connection was closed" instead.
	c2 := redis.NewClient(&redis.Options{Addr: proxy.Addr(), DB: f.cache.DB, MaxRetries: -1})
	t.Cleanup(func() { _ = c2.Close() })
	f.d.Cache = c2
	res := run(t, f.d, keys...)
	want(t, res, Fail, "(connection refused)", KeyCacheResponseTime, KeyCacheHitRatio, KeyCacheEvictions)
	want(t, res, Fail, "the cache Redis", KeyCacheResponseTime, KeyCacheHitRatio, KeyCacheEvictions)
	want(t, res, Pass, "", KeyQueueResponseTime)
}

// TestRateLimitRedis: ratelimit:redis names the fail mode in every round;
// with the cache Redis down it warns when requests then pass unlimited
// (RATE_LIMIT_FAIL_OPEN=true) and fails when they are all refused.
func TestRateLimitRedis(t *testing.T) {
	f := newFixture(t)
	for _, open := range []bool{true, false} {
		f.d.RateLimitFailOpen = open
		mode, down := "fail-closed", Fail
		if open {
			mode, down = "fail-open", Warn
		}
		t.Run(mode, func(t *testing.T) {
			f.d.Cache = f.cache.Client(t)
			res := run(t, f.d, KeyRateLimitRedis)
			want(t, res, Pass, "rate limits are enforced", KeyRateLimitRedis)
			if got := res[KeyRateLimitRedis].ObservedValue; got != mode {
				t.Errorf("observed %v, want %s", got, mode)
			}
			c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
			t.Cleanup(func() { _ = c.Close() })
			f.d.Cache = c
			res = run(t, f.d, KeyRateLimitRedis)
			want(t, res, down, "does not answer (connection refused)", KeyRateLimitRedis)
			if got := res[KeyRateLimitRedis].ObservedValue; got != mode {
				t.Errorf("observed %v while down, want %s", got, mode)
			}
		})
	}
}

// TestBackupsRestoreTime: before any drill the check passes and says so;
// a real restore drill (verify --restore-test) records its load time in
// the manifest, with the table sizes the dump wrote, and the check
// reports it, warning once it exceeds HEALTH_RTO_WARN.
func TestBackupsRestoreTime(t *testing.T) {
	f := newFixture(t)
	testenv.ExecAll(t, f.d.DB, "CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(50), KEY (name))",
		"INSERT INTO products VALUES (1, 'Zumo'), (2, 'Bocadillo')")
	ctx := context.Background()
	man, err := f.mgr.Run(ctx, backup.RunOptions{Trigger: backup.TriggerCLI})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if len(man.Tables) != 1 || man.Tables[0].Bytes <= 0 {
		t.Fatalf("manifest tables %+v, want products with its SQL size", man.Tables)
	}
	want(t, run(t, f.d, KeyBackupsRestoreTime), Pass, "no restore drill has run yet", KeyBackupsRestoreTime)

	rep, err := f.mgr.Verify(ctx, man.Name, true)
	if err != nil || rep.Drill == nil || rep.Drill.RestoreSeconds <= 0 || rep.Drill.Threads < 1 || !rep.Drill.OK {
		t.Fatalf("drill: %+v, %v", rep.Drill, err)
	}
	res := run(t, f.d, KeyBackupsRestoreTime)
	want(t, res, Pass, "the last restore drill ("+man.Name+") loaded in", KeyBackupsRestoreTime)
	if v, ok := res[KeyBackupsRestoreTime].ObservedValue.(float64); !ok || v < 0 || v > rep.Drill.RestoreSeconds+0.05 {
		t.Errorf("observed %v, want the drill's %.3f s", res[KeyBackupsRestoreTime].ObservedValue, rep.Drill.RestoreSeconds)
	}
	f.d.Thresholds.RTOWarn = time.Nanosecond
	want(t, run(t, f.d, KeyBackupsRestoreTime), Warn, "over HEALTH_RTO_WARN", KeyBackupsRestoreTime)
}

// TestQueueEvictionPolicyWarns: a queue Redis that may evict keys warns.
// The test Redis is shared: its policy is restored at cleanup.
func TestQueueEvictionPolicyWarns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	was, err := f.queue.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		t.Fatal(err)
	}
	want(t, run(t, f.d, KeyQueueMemory), Pass, "", KeyQueueMemory)
	t.Cleanup(func() {
		if err := f.queue.ConfigSet(context.Background(), "maxmemory-policy", was["maxmemory-policy"]).Err(); err != nil {
			t.Errorf("restore maxmemory-policy: %v", err)
		}
	})
	if err := f.queue.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	res := run(t, f.d, KeyQueueMemory)
	want(t, res, Warn, "maxmemory-policy is allkeys-lru", KeyQueueMemory)
	if res[KeyQueueMemory].ObservedUnit != "bytes" {
		t.Errorf("no maxmemory: unit %q, want bytes", res[KeyQueueMemory].ObservedUnit)
	}
}

// bigBackup is a backup storage whose newest backup is larger than any
// disk.
type bigBackup struct{ db string }

func (b bigBackup) List(context.Context) (backup.Listing, error) {
	return backup.Listing{Backups: []backup.Backup{{Name: "x", Prefix: b.db, Size: math.MaxInt64 / 4, Status: backup.StatusGood}}}, nil
}

// TestSystemThresholds: low thresholds trip disk, memory and CPU (a
// spinning goroutine keeps the CPU sample above 2 %); a BACKUP_DIR not yet
// created is measured on its parent; free space under twice the last
// backup fails with the default thresholds.
func TestSystemThresholds(t *testing.T) {
	f := newFixture(t)
	d := f.d
	d.BackupDir = d.BackupDir + "/not/yet"
	d.Thresholds.DiskWarn, d.Thresholds.DiskFail = 1, 2
	d.Thresholds.MemoryWarn, d.Thresholds.MemoryFail = 1, 2
	d.Thresholds.CPUWarn, d.Thresholds.CPUFail = 1, 2
	var stop atomic.Bool
	t.Cleanup(func() { stop.Store(true) })
	for range runtime.NumCPU() {
		go func() {
			for !stop.Load() {
			}
		}()
	}
	res := run(t, d, KeyDiskUtilization, KeyMemoryUtilization, KeyCPUUtilization)
	stop.Store(true)
	want(t, res, Fail, "", KeyDiskUtilization, KeyMemoryUtilization, KeyCPUUtilization)
	for k, r := range res {
		if r.ObservedUnit != "%" || !strings.HasPrefix(r.Threshold, "warn ≥ 1 %, fail ≥ 2 %") {
			t.Errorf("%s: unit %q, threshold %q", k, r.ObservedUnit, r.Threshold)
		}
	}
	want(t, res, Fail, "per core", KeyCPUUtilization)

	d = f.d
	d.Thresholds.DiskWarn, d.Thresholds.DiskFail = 101, 101 // whatever the test machine's disk holds
	want(t, run(t, d, KeyDiskUtilization), Pass, "free", KeyDiskUtilization)
	d.Backups = bigBackup{db: d.Database}
	want(t, run(t, d, KeyDiskUtilization), Fail, "the next backup may not fit", KeyDiskUtilization)
}

// TestBackupAge: no backup warns; a verified backup older than
// HEALTH_BACKUP_MAX_AGE (made by the real engine with the clock set back)
// fails.
func TestBackupAge(t *testing.T) {
	f := newFixture(t)
	want(t, run(t, f.d, KeyBackupsAge), Warn, "no backup yet", KeyBackupsAge)

	old := time.Now().Add(-f.d.Thresholds.BackupMaxAge - time.Hour)
	f.mgr.Now = func() time.Time { return old }
	if _, err := f.mgr.Run(context.Background(), backup.RunOptions{Trigger: backup.TriggerCLI}); err != nil {
		t.Fatalf("backup: %v", err)
	}
	res := run(t, f.d, KeyBackupsAge)
	want(t, res, Fail, "the newest verified backup is 27h", KeyBackupsAge)
	if age, _ := res[KeyBackupsAge].ObservedValue.(int64); time.Duration(age)*time.Second < f.d.Thresholds.BackupMaxAge {
		t.Errorf("observed age %v s", res[KeyBackupsAge].ObservedValue)
	}
	// A backup of another database in the same storage does not count.
	f.d.Database = "other"
	want(t, run(t, f.d, KeyBackupsAge), Warn, "no backup yet", KeyBackupsAge)
}

// TestBackupAgePerDestination: with two destinations, the one whose
// newest verified backup is missing or oldest decides, and is named.
func TestBackupAgePerDestination(t *testing.T) {
	f := newFixture(t)
	offsite := backup.NewDirStorage(t.TempDir())
	f.mgr.Destinations = []backup.Destination{{Name: "file", Storage: f.mgr.Storage}, {Name: "s3", Storage: offsite}}
	f.d.Backups, f.d.Destinations = AllDestinations{Manager: f.mgr}, []string{"file", "s3"}
	// Only the local one has a (fresh) backup: the off-site one warns.
	local, err := f.mgr.On("file")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Run(context.Background(), backup.RunOptions{Trigger: backup.TriggerCLI}); err != nil {
		t.Fatal(err)
	}
	want(t, run(t, f.d, KeyBackupsAge), Warn, "s3: no backup yet", KeyBackupsAge)
	// An old backup in both, then a fresh one locally only: s3's is the
	// stale one, and fails.
	old := time.Now().Add(-f.d.Thresholds.BackupMaxAge - time.Hour)
	f.mgr.Now = func() time.Time { return old }
	if _, err := f.mgr.Run(context.Background(), backup.RunOptions{Trigger: backup.TriggerCLI}); err != nil {
		t.Fatal(err)
	}
	want(t, run(t, f.d, KeyBackupsAge), Fail, "s3: the newest verified backup is 27h", KeyBackupsAge)
	// Both fresh: passes.
	f.mgr.Now = nil
	if _, err := f.mgr.Run(context.Background(), backup.RunOptions{Trigger: backup.TriggerCLI}); err != nil {
		t.Fatal(err)
	}
	want(t, run(t, f.d, KeyBackupsAge), Pass, "", KeyBackupsAge) // a pass has no output (draft-inadarei)
}

// TestBackupsLastRun: an archived backup:run fails the check; a later
// completed one clears it.
func TestBackupsLastRun(t *testing.T) {
	f := newFixture(t)
	want(t, run(t, f.d, KeyBackupsLastRun), Pass, "no backup:run has finished yet", KeyBackupsLastRun)

	client := asynq.NewClientFromRedisClient(f.queue)
	enqueue := func() *asynq.TaskInfo {
		t.Helper()
		task, err := tasks.New(tasks.BackupRun{Trigger: backup.TriggerCLI, RequestedAt: time.Now()}, tasks.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		info, err := client.Enqueue(task)
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	// Another type archived in the same queue is not a backup:run.
	email, err := tasks.New(tasks.EmailSend{}, tasks.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := client.Enqueue(email); err != nil || f.d.Inspector.ArchiveTask(info.Queue, info.ID) != nil {
		t.Fatalf("archive an email: %v", err)
	}
	want(t, run(t, f.d, KeyBackupsLastRun), Pass, "", KeyBackupsLastRun)

	info := enqueue()
	if err := f.d.Inspector.ArchiveTask(info.Queue, info.ID); err != nil {
		t.Fatal(err)
	}
	want(t, run(t, f.d, KeyBackupsLastRun), Fail, "the last backup:run failed after all its retries", KeyBackupsLastRun)

	startWorker(t, f.queue)
	done := enqueue()
	testenv.Eventually(t, 20*time.Second, "the backup:run to complete", func() bool {
		ti, err := f.d.Inspector.GetTaskInfo(done.Queue, done.ID)
		return err == nil && ti.State == asynq.TaskStateCompleted
	})
	want(t, run(t, f.d, KeyBackupsLastRun), Pass, "the last backup:run completed", KeyBackupsLastRun)
}

// TestQueuesWorkers: no worker fails; one started worker passes.
func TestQueuesWorkers(t *testing.T) {
	f := newFixture(t)
	want(t, run(t, f.d, KeyQueuesWorkers), Fail, "no worker process is running", KeyQueuesWorkers)
	startWorker(t, f.queue)
	testenv.Eventually(t, 10*time.Second, "queues:workers to pass", func() bool {
		return run(t, f.d, KeyQueuesWorkers)[KeyQueuesWorkers].Status == Pass
	})
}

// TestQueuesLatency: a task waiting longer than HEALTH_QUEUE_LATENCY_WARN
// warns, naming its queue.
func TestQueuesLatency(t *testing.T) {
	f := newFixture(t)
	want(t, run(t, f.d, KeyQueuesLatency), Pass, "no task is waiting", KeyQueuesLatency)
	task, err := tasks.New(tasks.BackupCleanup{}, tasks.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(f.queue).Enqueue(task); err != nil {
		t.Fatal(err)
	}
	want(t, run(t, f.d, KeyQueuesLatency), Pass, "(queue low) has waited", KeyQueuesLatency)
	f.d.Thresholds.QueueLatencyWarn = time.Millisecond
	testenv.Eventually(t, 10*time.Second, "queues:latency to warn", func() bool {
		r := run(t, f.d, KeyQueuesLatency)[KeyQueuesLatency]
		return r.Status == Warn && strings.Contains(r.Output, "queue low")
	})
}

// TestSchedulerLeader: no lease fails, a held lease passes, a lease that
// never expires warns.
func TestSchedulerLeader(t *testing.T) {
	f := newFixture(t)
	want(t, run(t, f.d, KeySchedulerLeader), Fail, "no scheduler holds the lease", KeySchedulerLeader)
	holdLease(t, f.queue, 30*time.Second)
	res := run(t, f.d, KeySchedulerLeader)
	want(t, res, Pass, "a scheduler holds the lease", KeySchedulerLeader)
	if v, _ := res[KeySchedulerLeader].ObservedValue.(float64); v <= 0 || v > 30 {
		t.Errorf("lease ttl %v", res[KeySchedulerLeader].ObservedValue)
	}
	holdLease(t, f.queue, 0)
	want(t, run(t, f.d, KeySchedulerLeader), Warn, "never expires", KeySchedulerLeader)
}

// TestHintsDoNotLeak: a bad password, a stopped server and a stopped cache
// give hints in our words; no output of the round names the account, its
// password, the host, the port or the database.
func TestHintsDoNotLeak(t *testing.T) {
	f := newFixture(t)
	proxy := notifytest.NewProxy(t, fmt.Sprintf("%s:%d", f.srv.Host, f.srv.Port))
	acc := testenv.MySQLAccount(t, f.srv, "GRANT ALL ON `"+f.dbName+"`.* TO {user}")
	bad := acc
	bad.Host, bad.Port, bad.Password = "127.0.0.1", proxy.Port(), acc.Password+"-wrong"
	f.d.DB = bad.Open(t, f.dbName)
	want(t, run(t, f.d, KeyDatabaseResponseTime), Fail, "cannot connect to the database (authentication failed)", KeyDatabaseResponseTime)

	cacheProxy := notifytest.NewProxy(t, f.cache.Addr)
	c := redis.NewClient(&redis.Options{Addr: cacheProxy.Addr(), DB: f.cache.DB, Password: "cache-secret-pw", MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	f.d.Cache = c
	rounds := []map[string]Result{run(t, f.d)}
	proxy.Cut()
	cacheProxy.Cut()
	rounds = append(rounds, run(t, f.d))
	// Hints (outputs of checks that did not pass) are checked for all of
	// it; the figures of passing outputs could contain a port's digits.
	secrets := []string{acc.User, acc.Password, bad.Password, "cache-secret-pw", f.dbName}
	addresses := []string{"127.0.0.1", strconv.Itoa(proxy.Port()), strconv.Itoa(cacheProxy.Port()), strconv.Itoa(f.srv.Port)}
	for i, res := range rounds {
		for k, r := range res {
			leaks := secrets
			if r.Status != Pass {
				leaks = append(slices.Clip(secrets), addresses...)
			}
			for _, s := range leaks {
				if s != "" && strings.Contains(r.Output, s) {
					t.Errorf("round %d: %s output %q contains %q", i, k, r.Output, s)
				}
			}
		}
	}
	want(t, rounds[1], Fail, "connection refused", KeyDatabaseResponseTime, KeyCacheResponseTime)
}

// TestDatabaseResponseTimeConnects: with a probe pool that keeps no idle
// connection, every round connects anew (connect + SELECT 1) and closes
// the connection after.
func TestDatabaseResponseTimeConnects(t *testing.T) {
	f := newFixture(t)
	probe := f.srv.Open(t, f.dbName)
	probe.SetMaxIdleConns(0)
	f.d.Connect = probe
	for range 2 {
		want(t, run(t, f.d, KeyDatabaseResponseTime), Pass, "connected", KeyDatabaseResponseTime)
	}
	if st := probe.Stats(); st.MaxIdleClosed != 2 || st.OpenConnections != 0 {
		t.Errorf("probe pool: %d connections closed after use, %d open; want 2 and 0", st.MaxIdleClosed, st.OpenConnections)
	}
}
