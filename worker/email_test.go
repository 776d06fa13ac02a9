package worker

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/conn"
	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/internal/notify/notifytest"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// mailEnv is a running worker with notifications on, its own Redis
// database and the shared Mailpit.
type mailEnv struct {
	cfg      *config.Config
	rdb      *redis.Client
	insp     *asynq.Inspector
	mp       notifytest.Mailpit
	notifier *notify.Notifier
	logs     *testenv.SyncBuffer
}

// startMailWorker loads vars over a base configuration pointing at the
// test Redis and Mailpit and runs a worker until the test ends. The logger
// has no secret scrubbing: whatever the code logs is what the test sees.
func startMailWorker(t *testing.T, vars map[string]string, withDB bool) *mailEnv {
	t.Helper()
	r := testenv.Redis(t)
	host, port, api := testenv.SMTP(t)
	all := map[string]string{
		"REDIS_URL":      r.URL(),
		"DATABASE_URL":   "mysql://cantina:unused@127.0.0.1:1/cantina",
		"EMAIL_HOST":     host,
		"EMAIL_PORT":     strconv.Itoa(port),
		"EMAIL_USE_TLS":  "false",
		"EMAIL_FROM":     "cantina@example.com",
		"PUBLIC_URL":     "https://ops.example.org",
		"HEALTH_TIMEOUT": "2s",
		// A busy or nearly full test machine must not trip the system
		// checks of a health round.
		"HEALTH_CPU_WARN": "101", "HEALTH_CPU_FAIL": "101", "HEALTH_MEMORY_WARN": "101", "HEALTH_MEMORY_FAIL": "101",
		"HEALTH_DISK_WARN": "101", "HEALTH_DISK_FAIL": "101",
	}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := all[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	log := logging.New(logs, logging.Options{Level: slog.LevelDebug, Format: "json"})
	rdb := r.Client(t)
	e := &mailEnv{
		cfg: cfg, rdb: rdb, insp: asynq.NewInspectorFromRedisClient(rdb), mp: notifytest.Mailpit{API: api}, logs: logs,
		notifier: notify.New(cfg, asynq.NewClientFromRedisClient(rdb), log),
	}
	deps := Deps{Redis: rdb, Logger: log, Notifier: e.notifier}
	if withDB {
		db, err := conn.DB(cfg.DB)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		deps.DB = db
	}
	srv := New(cfg, deps)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

// emailTasks lists every email:send task in any state.
func (e *mailEnv) emailTasks(t *testing.T) []*asynq.TaskInfo {
	t.Helper()
	var out []*asynq.TaskInfo
	lists := []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		e.insp.ListPendingTasks, e.insp.ListActiveTasks, e.insp.ListScheduledTasks,
		e.insp.ListRetryTasks, e.insp.ListArchivedTasks, e.insp.ListCompletedTasks,
	}
	for _, list := range lists {
		tis, err := list(tasks.QueueCritical)
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			t.Fatal(err)
		}
		for _, ti := range tis {
			if ti.Type == tasks.TypeEmailSend {
				out = append(out, ti)
			}
		}
	}
	return out
}

// waitState waits until task id is in state and returns it.
func (e *mailEnv) waitState(t *testing.T, id string, state asynq.TaskState) *asynq.TaskInfo {
	t.Helper()
	var ti *asynq.TaskInfo
	testenv.Eventually(t, 60*time.Second, "task "+id+" "+state.String(), func() bool {
		var err error
		ti, err = e.insp.GetTaskInfo(tasks.QueueCritical, id)
		return err == nil && ti.State == state
	})
	return ti
}

func failedBackup(taskID string) notify.Backup {
	return notify.Backup{
		Name:    "cantina-20261126T020000Z.sql.gz",
		Error:   "dial tcp 10.0.0.5:3306: connect: connection refused",
		Attempt: notify.Attempt{TaskID: taskID, Queue: tasks.QueueCritical, Number: 4, Max: 4},
	}
}

// TestProducerTwiceOneEmail: a backup handler that reports the same final
// failure twice (a crash and a retry), and once more after the email went
// out (an operator's "Run" within the day), yields one email.
func TestProducerTwiceOneEmail(t *testing.T) {
	to := notifytest.Recipient(t, "twice")
	e := startMailWorker(t, map[string]string{"NOTIFY_EMAILS": to}, false)
	ctx := context.Background()
	b := failedBackup("backup:run@2026-11-26T02:00:00Z")
	for range 2 {
		if err := e.notifier.BackupFailed(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	id := tasks.EmailSendID(string(notify.KindBackupFailed), b.Attempt.TaskID, to)
	done := e.waitState(t, id, asynq.TaskStateCompleted)
	if !strings.Contains(string(done.Result), "Ok") {
		t.Errorf("task result %q, want the server's reply", done.Result)
	}
	testenv.Eventually(t, 30*time.Second, "the email in Mailpit", func() bool { return len(e.mp.To(t, to)) > 0 })

	// Re-run after delivery: the completed task still holds its ID.
	if err := e.notifier.BackupFailed(ctx, b); err != nil {
		t.Fatal(err)
	}
	if tis := e.emailTasks(t); len(tis) != 1 || tis[0].ID != id || tis[0].State != asynq.TaskStateCompleted {
		t.Fatalf("email tasks %+v, want only the completed %s", tis, id)
	}
	msgs := e.mp.To(t, to)
	if len(msgs) != 1 || msgs[0].Subject != "[cantina-ops] ❌ Copia de seguridad fallida: cantina" {
		t.Errorf("messages to %s: %+v, want one backup-failed email", to, msgs)
	}
}

// TestSMTPDownThenBack: with the mail server unreachable the task is
// retried, not archived; once it is back the email arrives exactly once.
func TestSMTPDownThenBack(t *testing.T) {
	host, port, _ := testenv.SMTP(t)
	proxy := notifytest.NewProxy(t, net.JoinHostPort(host, strconv.Itoa(port)))
	proxy.Cut()
	to := notifytest.Recipient(t, "down")
	e := startMailWorker(t, map[string]string{
		"NOTIFY_EMAILS": to, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": strconv.Itoa(proxy.Port()),
	}, false)
	b := failedBackup("backup:run@2026-11-26T02:00:00Z")
	if err := e.notifier.BackupFailed(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	id := tasks.EmailSendID(string(notify.KindBackupFailed), b.Attempt.TaskID, to)
	ti := e.waitState(t, id, asynq.TaskStateRetry)
	if ti.Retried != 1 || !strings.Contains(ti.LastErr, "connection refused") || ti.MaxRetry != tasks.EmailMaxRetry {
		t.Errorf("after the failed attempt: retried %d/%d, last error %q", ti.Retried, ti.MaxRetry, ti.LastErr)
	}
	if n := len(e.mp.To(t, to)); n != 0 {
		t.Fatalf("%d messages while the server was down", n)
	}

	proxy.Restore(t)
	// Run the retry now instead of waiting out asynq's backoff, as an
	// operator would from the console.
	if err := e.insp.RunTask(tasks.QueueCritical, id); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, id, asynq.TaskStateCompleted)
	testenv.Eventually(t, 30*time.Second, "the email in Mailpit", func() bool { return len(e.mp.To(t, to)) > 0 })
	if tis := e.emailTasks(t); len(tis) != 1 {
		t.Errorf("%d email tasks, want 1", len(tis))
	}
	if n := len(e.mp.To(t, to)); n != 1 {
		t.Errorf("%d messages, want exactly 1", n)
	}
}

// TestRejectedRecipientArchived: a 550 is permanent; the task is archived
// after one attempt with the server's reply as its last error.
func TestRejectedRecipientArchived(t *testing.T) {
	host, port, _ := testenv.SMTP(t)
	notifytest.RequireRejection(t, host, port)
	e := startMailWorker(t, map[string]string{"NOTIFY_EMAILS": notifytest.Rejected}, false)
	b := failedBackup("backup:run@2026-11-26T02:00:00Z")
	if err := e.notifier.BackupFailed(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	id := tasks.EmailSendID(string(notify.KindBackupFailed), b.Attempt.TaskID, notifytest.Rejected)
	ti := e.waitState(t, id, asynq.TaskStateArchived)
	if ti.Retried != 0 {
		t.Errorf("retried %d times, want 0", ti.Retried)
	}
	for _, want := range []string{"550", "mailbox unavailable", notifytest.Rejected, "run this task again from the console"} {
		if !strings.Contains(ti.LastErr, want) {
			t.Errorf("last error %q lacks %q", ti.LastErr, want)
		}
	}
}

// TestNoSecretsInEmailsPayloadsOrLogs: with DB, SMTP and console passwords
// set, and events whose text quotes the DSN and the passwords, no password
// or DSN appears in a message (decoded parts, headers, raw source), a task
// payload, or a log line.
func TestNoSecretsInEmailsPayloadsOrLogs(t *testing.T) {
	const (
		dbPass      = "Db-Pa55-wOrd-7"
		smtpPass    = "Smtp-Pa55-wOrd-8"
		consolePass = "Console-Pa55-9"
	)
	to := notifytest.Recipient(t, "secrets")
	e := startMailWorker(t, map[string]string{
		"NOTIFY_EMAILS":       to,
		"DATABASE_URL":        "mysql://cantina:" + dbPass + "@127.0.0.1:1/cantina",
		"EMAIL_HOST_PASSWORD": smtpPass, // no EMAIL_HOST_USER: no AUTH against Mailpit
		"CONSOLE_USER":        "op",
		"CONSOLE_PASSWORD":    consolePass,
	}, false)
	dsn := e.cfg.DB.MySQL().FormatDSN()
	url := "mysql://cantina:" + dbPass + "@127.0.0.1:1/cantina"
	ctx := context.Background()
	b := failedBackup("backup:run@secrets")
	b.Error = "open " + dsn + ": refused; url " + url + "; smtp " + smtpPass
	b.Hint = "console login op:" + consolePass
	if err := e.notifier.BackupFailed(ctx, b); err != nil {
		t.Fatal(err)
	}
	w := &notify.HealthWatch{Redis: e.rdb, Notifier: e.notifier, Database: "cantina"}
	rep := health.Report{Status: health.Fail, Time: time.Now(), Checks: map[string]health.Result{
		"database": {Status: health.Fail, Output: "open " + dsn + ": access denied"},
	}}
	if _, err := w.Observe(ctx, rep); err != nil {
		t.Fatal(err)
	}

	var msgs []notifytest.Summary
	testenv.Eventually(t, 60*time.Second, "both emails", func() bool { msgs = e.mp.To(t, to); return len(msgs) == 2 })
	secrets := []string{dbPass, smtpPass, consolePass, dsn, url}
	check := func(where, s string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s contains %q:\n%s", where, secret, s)
			}
		}
	}
	for _, m := range msgs {
		full := e.mp.Message(t, m.ID)
		check("subject", full.Subject)
		check("text part", full.Text)
		check("HTML part", full.HTML)
		check("raw message", e.mp.Raw(t, m.ID))
		for name, vs := range e.mp.Headers(t, m.ID) {
			check("header "+name, strings.Join(vs, " "))
		}
		if !strings.Contains(full.Text, "[REDACTED]") {
			t.Errorf("expected the redaction marker in:\n%s", full.Text)
		}
	}
	for _, ti := range e.emailTasks(t) {
		check("payload of "+ti.ID, string(ti.Payload))
		check("result of "+ti.ID, string(ti.Result))
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "email sent") || !strings.Contains(logs, "notification queued") {
		t.Fatalf("the logs do not show the emails, so they prove nothing:\n%s", logs)
	}
	check("logs", logs)
}

func TestEmailHandlerPermanentFailures(t *testing.T) {
	cfg := &config.Config{NotifyLang: "es", PublicURL: "https://ops.example.org", Email: config.Email{Host: "127.0.0.1", Port: 1, From: "cantina@example.com"}}
	h := &emailHandler{enabled: true, renderer: notify.NewRenderer(cfg), mailer: notify.NewSMTP(cfg.Email), log: logging.Discard()}
	ah := &handler[tasks.EmailSend, string]{run: h.run, log: logging.Discard()}
	for name, payload := range map[string]string{
		"not JSON":     `{"kind":`,
		"unknown kind": `{"kind":"backup-exploded","to":"a@example.com","event":{}}`,
		"no data":      `{"kind":"backup-failed","to":"a@example.com","event":{"database":"cantina"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			err := ah.ProcessTask(context.Background(), asynq.NewTask(tasks.TypeEmailSend, []byte(payload)))
			if !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("error %v, want a permanent failure", err)
			}
		})
	}
	h.enabled = false
	if err := ah.ProcessTask(context.Background(), asynq.NewTask(tasks.TypeEmailSend, []byte(`{"kind":"test","to":"a@example.com","event":{}}`))); err != nil {
		t.Errorf("notifications off: %v, want the task to complete quietly", err)
	}
}
