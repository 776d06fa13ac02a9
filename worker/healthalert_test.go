package worker

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/notify"
	"github.com/cantina-pos/cantina-ops/internal/notify/notifytest"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// TestHealthCheckAlertsOnStatusChanges runs health:check{Notify} in the
// worker against the real MariaDB behind a proxy the test cuts and
// restores: pass (no email), fail (one "failed" email, naming the check),
// the same failure after a simulated crash between queuing the email and
// storing the status (still one email), pass again (one "recovered").
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
		t.Fatalf("status not stored: %v", err)
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
	testenv.Eventually(t, 60*time.Second, "the recovered email", func() bool { return subjectsTo()[recoveredSubject+dbName] == 1 })
	got := subjectsTo()
	if len(got) != 2 || got[failedSubject+dbName] != 1 {
		t.Errorf("messages by subject: %v, want one failed and one recovered", got)
	}
	for _, m := range e.mp.To(t, to) {
		if m.Subject == recoveredSubject+dbName {
			if text := e.mp.Message(t, m.ID).Text; !strings.Contains(text, "Vuelven a funcionar: database") {
				t.Errorf("recovered email does not say what recovered:\n%s", text)
			}
		}
	}
}
