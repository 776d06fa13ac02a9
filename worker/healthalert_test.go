package worker

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/internal/notify/notifytest"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// TestHealthCheckAlertsOnStatusChanges runs health:check{Notify} in the
// worker against the real MariaDB behind a proxy the test cuts and
// restores: pass (no email), fail (one "failed" email, naming the check),
// the same failure after a simulated crash between queuing the email and
// storing the alert state (still one email), pass (recovering: no email),
// pass again (one "recovered"). Every round is kept for the console.
func TestHealthCheckAlertsOnStatusChanges(t *testing.T) {
	srv, dbName := testenv.MySQLDatabase(t)
	proxy := notifytest.NewProxy(t, net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port)))
	viaProxy := srv
	viaProxy.Host, viaProxy.Port = "127.0.0.1", proxy.Port()
	to := notifytest.Recipient(t, "health")
	e := startMailWorker(t, map[string]string{"NOTIFY_EMAILS": to, "DATABASE_URL": viaProxy.URL(dbName)}, true)
	client := asynq.NewClientFromRedisClient(e.rdb)
	ctx := context.Background()

	check := func(id string) {
		t.Helper()
		task, err := tasks.New(tasks.HealthCheck{Notify: true}, tasks.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Enqueue(task, asynq.TaskID(id)); err != nil {
			t.Fatal(err)
		}
		var ti *asynq.TaskInfo
		testenv.Eventually(t, 60*time.Second, "health check "+id+" completed", func() bool {
			ti, err = e.insp.GetTaskInfo(tasks.QueueDefault, id)
			return err == nil && ti.State == asynq.TaskStateCompleted
		})
		if ti.Retried != 0 {
			t.Errorf("%s retried %d times: alerting must not fail the check (%s)", id, ti.Retried, ti.LastErr)
		}
	}
	kindsQueued := func() []string {
		var out []string
		for _, ti := range e.emailTasks(t) {
			out = append(out, strings.SplitN(ti.ID, ":", 3)[1])
		}
		return out
	}
	subjectsTo := func() map[string]int {
		out := map[string]int{}
		for _, m := range e.mp.To(t, to) {
			out[m.Subject]++
		}
		return out
	}
	const (
		failedSubject    = "[cantina-ops] 🔴 Servidor en fallo: "
		recoveredSubject = "[cantina-ops] 🟢 Servidor recuperado: "
	)

	check("h1-pass")
	if q := kindsQueued(); len(q) != 0 {
		t.Fatalf("emails queued while healthy: %q", q)
	}
	stored, err := e.rdb.Get(ctx, notify.HealthKeyPrefix+dbName).Result()
	if err != nil {
		t.Fatalf("alert state not stored: %v", err)
	}

	proxy.Cut()
	check("h2-fail")
	testenv.Eventually(t, 60*time.Second, "the failed email", func() bool { return subjectsTo()[failedSubject+dbName] == 1 })
	msg := e.mp.Message(t, e.mp.To(t, to)[0].ID)
	if !strings.Contains(msg.Text, "database: en fallo") || !strings.Contains(msg.Text, "select 1:") {
		t.Errorf("failed email does not name the failing check and its output:\n%s", msg.Text)
	}

	// Crash between enqueue and store: put back the status as it was.
	if err := e.rdb.Set(ctx, notify.HealthKeyPrefix+dbName, stored, 0).Err(); err != nil {
		t.Fatal(err)
	}
	check("h3-fail-again")
	if q := kindsQueued(); strings.Join(q, ",") != "health-failed" {
		t.Fatalf("email tasks after the re-run: %q, want the one health-failed", q)
	}

	proxy.Restore(t)
	check("h4-pass")
	if q := kindsQueued(); strings.Join(q, ",") != "health-failed" {
		t.Fatalf("email tasks after the first passing round: %q, want no recovery yet", q)
	}
	check("h5-pass")
	testenv.Eventually(t, 60*time.Second, "the recovered email", func() bool { return subjectsTo()[recoveredSubject+dbName] == 1 })
	got := subjectsTo()
	if len(got) != 2 || got[failedSubject+dbName] != 1 {
		t.Errorf("messages by subject: %v, want one failed and one recovered", got)
	}
	for _, m := range e.mp.To(t, to) {
		if m.Subject == recoveredSubject+dbName {
			if text := e.mp.Message(t, m.ID).Text; !strings.Contains(text, "database: correcto · recuperado") {
				t.Errorf("recovered email does not say what recovered:\n%s", text)
			}
		}
	}

	rounds, err := (&health.History{Redis: e.rdb, Database: dbName}).LastRounds(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, r := range rounds {
		statuses = append(statuses, string(r.Status))
	}
	if strings.Join(statuses, ",") != "pass,pass,fail,fail,pass" {
		t.Errorf("rounds kept, newest first: %q", statuses)
	}
}

// TestHealthAlertReminderAndRecovery drives the watcher the worker uses
// with an injected clock through a failure, a quiet round, a reminder
// HEALTH_ALERT_REPEAT later, a first passing round and the recovery, in
// both languages, and counts the emails that arrive in the real Mailpit:
// exactly failed, reminder, recovered.
func TestHealthAlertReminderAndRecovery(t *testing.T) {
	subjects := map[string][]string{
		"es": {"[cantina-ops] 🔴 Servidor en fallo: cantina", "[cantina-ops] ⏰ Sigue en fallo: cantina", "[cantina-ops] 🟢 Servidor recuperado: cantina"},
		"en": {"[cantina-ops] 🔴 Server failing: cantina", "[cantina-ops] ⏰ Still failing: cantina", "[cantina-ops] 🟢 Server recovered: cantina"},
	}
	for _, lang := range []string{"es", "en"} {
		t.Run(lang, func(t *testing.T) {
			to := notifytest.Recipient(t, "reminder-"+lang)
			e := startMailWorker(t, map[string]string{"NOTIFY_EMAILS": to, "NOTIFY_LANG": lang, "HEALTH_ALERT_REPEAT": "6h"}, false)
			t0 := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
			now := t0
			w := &notify.HealthWatch{Redis: e.rdb, Notifier: e.notifier, Database: "cantina", Repeat: e.cfg.Health.AlertRepeat, Now: func() time.Time { return now }}
			rounds := []struct {
				at   time.Duration
				db   health.Status
				want notify.Kind
			}{
				{0, health.Fail, notify.KindHealthFailed},
				{time.Hour, health.Fail, ""},
				{5 * time.Hour, health.Fail, ""},
				{6 * time.Hour, health.Fail, notify.KindHealthReminder},
				{7 * time.Hour, health.Pass, ""},
				{8 * time.Hour, health.Pass, notify.KindHealthRecovered},
				{9 * time.Hour, health.Pass, ""},
			}
			for _, r := range rounds {
				now = t0.Add(r.at)
				rep := health.Report{Status: r.db, Time: now, Checks: map[string]health.Result{
					"database:responseTime": {Status: r.db, Output: "select 1 took too long"},
				}}
				n, err := w.Observe(context.Background(), rep)
				if err != nil {
					t.Fatal(err)
				}
				if n.Kind != r.want {
					t.Errorf("+%s: notice %q, want %q", r.at, n.Kind, r.want)
				}
			}

			var got []notifytest.Summary
			testenv.Eventually(t, 60*time.Second, "three emails", func() bool { got = e.mp.To(t, to); return len(got) >= 3 })
			if n := len(e.emailTasks(t)); n != 3 || len(got) != 3 {
				t.Fatalf("%d email tasks, %d messages; want exactly 3", n, len(got))
			}
			seen := map[string]int{}
			for _, m := range got {
				seen[m.Subject]++
			}
			for _, subj := range subjects[lang] {
				if seen[subj] != 1 {
					t.Errorf("subjects %v: want one %q", seen, subj)
				}
			}
		})
	}
}

// TestHealthTaskFailureAlerts: a health:check that fails for good reports
// the failing check health:task through the same alert state; the other
// alerts stay as they were, and health:task recovers once rounds complete
// again.
func TestHealthTaskFailureAlerts(t *testing.T) {
	to := notifytest.Recipient(t, "taskfail")
	e := startMailWorker(t, map[string]string{"NOTIFY_EMAILS": to, "NOTIFY_LANG": "en"}, false)
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	h := &healthTask{log: logging.Discard(), history: &health.History{Redis: e.rdb, Database: "cantina"},
		watch: &notify.HealthWatch{Redis: e.rdb, Notifier: e.notifier, Database: "cantina", Repeat: time.Hour, Now: func() time.Time { return now }}}
	ctx := context.Background()
	p := tasks.HealthCheck{Notify: true}

	// The raw error names an internal address: it goes to the log, the
	// email says it in our words.
	err := &TimeoutError{Limit: 2 * time.Minute, Err: errors.New("dial tcp 10.0.0.5:6379: i/o timeout")}
	if err := h.failed(ctx, p, Failure{Err: err}); err != nil {
		t.Fatal(err)
	}
	var got []notifytest.Summary
	testenv.Eventually(t, 60*time.Second, "the failed email", func() bool { got = e.mp.To(t, to); return len(got) == 1 })
	if got[0].Subject != "[cantina-ops] 🔴 Server failing: cantina" {
		t.Errorf("subject %q", got[0].Subject)
	}
	text := e.mp.Message(t, got[0].ID).Text
	if !strings.Contains(text, "health:task: failing · new") || !strings.Contains(text, "did not complete within its limit (2m0s)") {
		t.Errorf("the email does not name the failing task:\n%s", text)
	}
	if strings.Contains(text, "10.0.0.5") {
		t.Errorf("the email carries the raw error's address:\n%s", text)
	}
	if rounds, err := h.history.LastRounds(ctx, 5); err != nil || len(rounds) != 1 || rounds[0].Checks[health.TaskCheck].Status != health.Fail {
		t.Errorf("failed round not kept: %+v, %v", rounds, err)
	}

	// Two complete rounds (health:task is missing from them): recovered.
	for i := range 2 {
		now = now.Add(time.Hour)
		if err := h.observe(ctx, health.Report{Status: health.Pass, Time: now, Checks: map[string]health.Result{"database:responseTime": {Status: health.Pass}}}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	testenv.Eventually(t, 60*time.Second, "the recovered email", func() bool { got = e.mp.To(t, to); return len(got) == 2 })
	if n := len(e.emailTasks(t)); n != 2 {
		t.Errorf("%d email tasks, want 2", n)
	}
}
