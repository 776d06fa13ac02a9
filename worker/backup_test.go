package worker

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/backup/setup"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/conn"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/metrics"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/internal/notify/notifytest"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// backupEnv is a running worker that backs up a real MariaDB database,
// reached through a proxy the test can cut, and emails a unique recipient
// through the shared Mailpit.
type backupEnv struct {
	cfg    *config.Config
	src    *sql.DB // the database, directly (not through the proxy)
	rdb    *redis.Client
	m      *backup.Manager
	client *asynq.Client
	insp   *asynq.Inspector
	proxy  *notifytest.Proxy
	mp     notifytest.Mailpit
	rcpt   string
	logs   *testenv.SyncBuffer
}

func startBackupWorker(t *testing.T) *backupEnv {
	t.Helper()
	return startBackupWorkerWith(t, nil)
}

// startBackupWorkerWith is startBackupWorker with more (or other)
// variables, e.g. BACKUP_STORAGE.
func startBackupWorkerWith(t *testing.T, extra map[string]string) *backupEnv {
	t.Helper()
	r := testenv.Redis(t)
	srv, dbName := testenv.MySQLDatabase(t)
	src := srv.Open(t, dbName)
	for _, q := range []string{
		"CREATE TABLE products (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(80) NOT NULL, price DECIMAL(8,2))",
		"INSERT INTO products (name, price) VALUES ('Bocadillo de tortilla', 2.50), ('Zumo de naranja', 1.20), ('Café con leche', NULL)",
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	proxy := notifytest.NewProxy(t, fmt.Sprintf("%s:%d", srv.Host, srv.Port))
	host, port, api := testenv.SMTP(t)
	rcpt := notifytest.Recipient(t, "backup")
	vars := map[string]string{
		"REDIS_URL":     r.URL(),
		"DATABASE_URL":  strings.Replace(srv.URL(dbName), fmt.Sprintf("%s:%d", srv.Host, srv.Port), proxy.Addr(), 1),
		"BACKUP_DIR":    t.TempDir(),
		"EMAIL_HOST":    host,
		"EMAIL_PORT":    strconv.Itoa(port),
		"EMAIL_USE_TLS": "false",
		"EMAIL_FROM":    "cantina@example.com",
		"NOTIFY_EMAILS": rcpt,
	}
	maps.Copy(vars, extra)
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	log := logging.New(logs, logging.Options{Level: slog.LevelDebug, Format: "json"})
	db, err := conn.DB(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	m, err := setup.Manager(cfg, db, "test", log)
	if err != nil {
		t.Fatal(err)
	}
	rdb := r.Client(t)
	e := &backupEnv{
		cfg: cfg, src: src, rdb: rdb, m: m, client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb),
		proxy: proxy, mp: notifytest.Mailpit{API: api}, rcpt: rcpt, logs: logs,
	}
	w := New(cfg, Deps{Redis: rdb, DB: db, Logger: log, Notifier: notify.New(cfg, e.client, log), Backups: m})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

// must returns a constructor's task, failing the test on its error:
// must(t)(tasks.New(…)).
func must(t *testing.T) func(*asynq.Task, error) *asynq.Task {
	return func(task *asynq.Task, err error) *asynq.Task {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
}

func (e *backupEnv) enqueue(t *testing.T, task *asynq.Task, opts ...asynq.Option) *asynq.TaskInfo {
	t.Helper()
	info, err := e.client.Enqueue(task, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// wait waits until the task is in state; it fails early if the task lands
// in another final state.
func (e *backupEnv) wait(t *testing.T, info *asynq.TaskInfo, state asynq.TaskState) *asynq.TaskInfo {
	t.Helper()
	var ti *asynq.TaskInfo
	testenv.Eventually(t, 120*time.Second, info.Type+" "+info.ID+" "+state.String(), func() bool {
		var err error
		ti, err = e.insp.GetTaskInfo(info.Queue, info.ID)
		if err != nil {
			return false
		}
		if ti.State != state && (ti.State == asynq.TaskStateCompleted || ti.State == asynq.TaskStateArchived) {
			t.Fatalf("task %s is %s (last error %q), want %s\n%s", ti.ID, ti.State, ti.LastErr, state, e.logs.String())
		}
		return ti.State == state
	})
	return ti
}

func (e *backupEnv) good(t *testing.T) []backup.Backup {
	t.Helper()
	l, err := e.m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []backup.Backup
	for _, b := range l.Backups {
		if b.Good() {
			out = append(out, b)
		}
	}
	return out
}

// mails waits until n messages of kind reached the recipient and all email
// tasks are done, and returns how many there are.
func (e *backupEnv) mails(t *testing.T, kind notify.Kind, atLeast int) int {
	t.Helper()
	count := func() int {
		n := 0
		for _, s := range e.mp.To(t, e.rcpt) {
			if h := e.mp.Headers(t, s.ID)["X-Cantina-Event"]; len(h) > 0 && h[0] == string(kind) {
				n++
			}
		}
		return n
	}
	testenv.Eventually(t, 60*time.Second, fmt.Sprintf("%d %s email(s)", atLeast, kind), func() bool {
		pending, _ := e.insp.ListPendingTasks(tasks.QueueCritical)
		active, _ := e.insp.ListActiveTasks(tasks.QueueCritical)
		for _, ti := range append(pending, active...) {
			if ti.Type == tasks.TypeEmailSend {
				return false
			}
		}
		return count() >= atLeast
	})
	return count()
}

func TestBackupTaskIsIdempotent(t *testing.T) {
	e := startBackupWorker(t)
	requested := time.Now().UTC()
	first := e.wait(t, e.enqueue(t, must(t)(tasks.New(tasks.BackupRun{Trigger: backup.TriggerAPI, RequestedAt: requested}, tasks.Limits{BackupTimeout: time.Minute}))), asynq.TaskStateCompleted)
	var man backup.Manifest
	if err := json.Unmarshal(first.Result, &man); err != nil || man.Name == "" || man.SHA256 == "" {
		t.Fatalf("result is not a manifest (%v): %s", err, first.Result)
	}
	if man.Rows() != 3 || man.Trigger != backup.TriggerAPI {
		t.Errorf("manifest: %d rows, trigger %q", man.Rows(), man.Trigger)
	}
	if g := e.good(t); len(g) != 1 || g[0].Name != man.Name {
		t.Fatalf("good backups after one task: %+v", g)
	}
	runs := func() string {
		return e.rdb.HGet(context.Background(), metrics.BackupRunsKey, metrics.RunSuccess).Val()
	}
	if n := runs(); n != "1" {
		t.Errorf("cantina_backup_runs_total{result=success} = %q after one backup, want 1", n)
	}

	// The same request handled again (a retry after a crash that came
	// after the backup was stored) reports the backup; it makes no second.
	again := e.wait(t, e.enqueue(t, must(t)(tasks.New(tasks.BackupRun{Trigger: backup.TriggerAPI, RequestedAt: requested}, tasks.Limits{BackupTimeout: time.Minute}))), asynq.TaskStateCompleted)
	var man2 backup.Manifest
	if err := json.Unmarshal(again.Result, &man2); err != nil || man2.Name != man.Name {
		t.Errorf("second run's result names %q, want the existing %q", man2.Name, man.Name)
	}
	if n := runs(); n != "1" {
		t.Errorf("runs counted %q after a run that found its backup made, want still 1", n)
	}
	// So does a scheduled slot at or before the backup.
	slot := requested.Add(-time.Minute).Truncate(time.Second)
	e.wait(t, e.enqueue(t, must(t)(tasks.New(tasks.BackupRun{}, tasks.Limits{BackupTimeout: time.Minute})), asynq.TaskID(tasks.TypeBackupRun+"@"+slot.Format(time.RFC3339))), asynq.TaskStateCompleted)
	if g := e.good(t); len(g) != 1 {
		t.Errorf("%d good backups after three runs of one request, want 1", len(g))
	}
	// A request made after that backup started is a new backup.
	e.wait(t, e.enqueue(t, must(t)(tasks.New(tasks.BackupRun{Trigger: backup.TriggerAPI, RequestedAt: man.StartedAt.Add(time.Millisecond)}, tasks.Limits{BackupTimeout: time.Minute}))), asynq.TaskStateCompleted)
	if g := e.good(t); len(g) != 2 {
		t.Errorf("%d good backups after a new request, want 2", len(g))
	}
}

// TestBackupTaskDatabaseDown: with the database unreachable the task is
// retried, then archived with one email; once the database is back, an
// operator's "Run" of the archived task makes the backup.
func TestBackupTaskDatabaseDown(t *testing.T) {
	e := startBackupWorker(t)
	e.proxy.Cut()
	info := e.enqueue(t, must(t)(tasks.New(tasks.BackupRun{RequestedAt: time.Now().UTC()}, tasks.Limits{BackupTimeout: time.Minute})), asynq.MaxRetry(1))
	ti := e.wait(t, info, asynq.TaskStateRetry)
	if ti.Retried != 1 || ti.LastErr == "" {
		t.Errorf("after the first failure: retried %d, last error %q", ti.Retried, ti.LastErr)
	}
	// Skip asynq's backoff (15 s or more), as an operator's "Run" does.
	if err := e.insp.RunTask(info.Queue, info.ID); err != nil {
		t.Fatal(err)
	}
	ti = e.wait(t, info, asynq.TaskStateArchived)
	if strings.Contains(ti.LastErr, "p@ss") || strings.Contains(ti.LastErr, e.cfg.DB.Password.Reveal()) {
		t.Errorf("last error leaks the password: %q", ti.LastErr)
	}
	if n := e.mails(t, notify.KindBackupFailed, 1); n != 1 {
		t.Errorf("%d backup-failed emails, want 1", n)
	}
	if len(e.good(t)) != 0 {
		t.Fatal("a backup exists although the database was down")
	}
	l, _ := e.m.List(context.Background())
	if len(l.Temps) != 0 || len(l.Backups) != 0 {
		t.Errorf("failed attempts left files: %+v", l)
	}

	e.proxy.Restore(t)
	if err := e.insp.RunTask(info.Queue, info.ID); err != nil {
		t.Fatal(err)
	}
	e.wait(t, info, asynq.TaskStateCompleted)
	if g := e.good(t); len(g) != 1 {
		t.Errorf("%d good backups after the operator's run, want 1", len(g))
	}
	if n := e.mails(t, notify.KindBackupFailed, 1); n != 1 {
		t.Errorf("%d backup-failed emails after the successful run, want still 1", n)
	}
}

// TestVerifyTaskDamagedBackup: a damaged backup fails its verification for
// good at once, with one email.
func TestVerifyTaskDamagedBackup(t *testing.T) {
	e := startBackupWorker(t)
	e.wait(t, e.enqueue(t, must(t)(tasks.New(tasks.BackupRun{RequestedAt: time.Now().UTC()}, tasks.Limits{BackupTimeout: time.Minute}))), asynq.TaskStateCompleted)
	g := e.good(t)
	if len(g) != 1 {
		t.Fatalf("%d good backups", len(g))
	}
	// A good backup passes the drill.
	ok := e.wait(t, e.enqueue(t, must(t)(tasks.New(tasks.BackupVerify{RestoreTest: true}, tasks.Limits{BackupTimeout: time.Minute}))), asynq.TaskStateCompleted)
	var rep backup.VerifyReport
	if err := json.Unmarshal(ok.Result, &rep); err != nil || !rep.OK() || !rep.RestoreTest || rep.Name != g[0].Name {
		t.Fatalf("verify result (%v): %s", err, ok.Result)
	}

	path := filepath.Join(e.cfg.BackupDir, g[0].Name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := e.wait(t, e.enqueue(t, must(t)(tasks.New(tasks.BackupVerify{Name: g[0].Name, RestoreTest: true}, tasks.Limits{BackupTimeout: time.Minute}))), asynq.TaskStateArchived)
	if bad.Retried != 0 || !strings.Contains(bad.LastErr, "verification failed") {
		t.Errorf("damaged backup: retried %d, last error %q; want archived at once", bad.Retried, bad.LastErr)
	}
	if n := e.mails(t, notify.KindVerifyFailed, 1); n != 1 {
		t.Errorf("%d verify-failed emails, want 1", n)
	}
}

// TestTaskTimeoutReported: an attempt that runs out of its limit is
// retried once, then archived, with exactly one failure email that names
// the timeout and the variable to raise. The backup is a real dump cut off
// mid-way (a table it must read is locked: the dump has started writing
// when it blocks) and leaves no file behind; the verify's restore drill
// hangs on a database that accepts connections and never answers.
func TestTaskTimeoutReported(t *testing.T) {
	e := startBackupWorker(t)
	// A good backup first, for the verify task to pick.
	e.wait(t, e.enqueue(t, must(t)(tasks.New(tasks.BackupRun{RequestedAt: time.Now().UTC()}, tasks.Limits{BackupTimeout: time.Minute}))), asynq.TaskStateCompleted)
	limit := tasks.Limits{BackupTimeout: 2 * time.Second}
	for _, tt := range []struct {
		name  string
		args  tasks.Args
		block func(t *testing.T)
		kind  notify.Kind
	}{
		{"backup", tasks.BackupRun{RequestedAt: time.Now().UTC().Add(time.Hour)}, func(t *testing.T) {
			ctx := context.Background()
			conn, err := e.src.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, "CREATE TABLE zz_locked (id INT PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, "LOCK TABLES zz_locked WRITE"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_, _ = conn.ExecContext(ctx, "UNLOCK TABLES")
				_ = conn.Close()
			})
		}, notify.KindBackupFailed},
		{"verify", tasks.BackupVerify{RestoreTest: true}, func(t *testing.T) {
			e.proxy.Hang()
			t.Cleanup(e.proxy.Resume)
		}, notify.KindVerifyFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.block(t)
			info := e.enqueue(t, must(t)(tasks.New(tt.args, limit)))
			ti := e.wait(t, info, asynq.TaskStateRetry)
			if ti.Retried != 1 || !strings.Contains(ti.LastErr, "timed out after") {
				t.Fatalf("after the first attempt: retried %d, last error %q", ti.Retried, ti.LastErr)
			}
			// Skip asynq's backoff, as an operator's "Run" does.
			if err := e.insp.RunTask(info.Queue, info.ID); err != nil {
				t.Fatal(err)
			}
			ti = e.wait(t, info, asynq.TaskStateArchived)
			if ti.Retried != 1 || ti.MaxRetry <= 1 {
				t.Errorf("archived after %d retries of %d allowed; want 1 (2 attempts) although more were allowed", ti.Retried, ti.MaxRetry)
			}
			if n := e.mails(t, tt.kind, 1); n != 1 {
				t.Fatalf("%d %s emails, want 1", n, tt.kind)
			}
			for _, s := range e.mp.To(t, e.rcpt) {
				if h := e.mp.Headers(t, s.ID)["X-Cantina-Event"]; len(h) == 0 || h[0] != string(tt.kind) {
					continue
				}
				text := e.mp.Message(t, s.ID).Text
				for _, want := range []string{"timed out after", "raise BACKUP_TIMEOUT"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s email does not say %q:\n%s", tt.kind, want, text)
					}
				}
			}
			// Nothing half-written stays: one good backup, no temporary
			// or partial file.
			l, err := e.m.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Temps) != 0 || len(l.Backups) != 1 || !l.Backups[0].Good() {
				t.Errorf("after the timeouts: %d temporary files, backups %+v", len(l.Temps), l.Backups)
			}
		})
	}
}
