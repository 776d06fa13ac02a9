package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// listing is a fixed ListAll answer.
type listing struct {
	l   backup.Listing
	err error
}

func (l listing) ListAll(context.Context) (backup.Listing, error) { return l.l, l.err }

// queue records what the backups page queued.
type queue struct {
	mu   sync.Mutex
	args []tasks.Args
}

func (q *queue) enqueue(_ context.Context, a tasks.Args) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.args = append(q.args, a)
	return "task-" + a.TaskType(), nil
}

// TestBackupsPage: every account sees each destination's backups (size,
// age, state, manifest), a destination that cannot be listed says so
// without the storage's error, and only operators get the buttons; an
// operator's "back up now" and "verify now" queue a backup:run (trigger
// console) and a backup:verify, are audited, and come back to the page
// naming the task; a viewer's or another site's POST queues nothing.
func TestBackupsPage(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	m := &backup.Manifest{Name: "pos-20261129T060000Z.sql.gz", Database: "pos", SHA256: "abc123", CompressedBytes: 2 << 20,
		Verified: &backup.Verification{At: now.Add(-2 * time.Hour), By: "backup"}}
	l := listing{
		l: backup.Listing{Backups: []backup.Backup{
			{Name: m.Name, Destination: "file", Status: backup.StatusGood, Size: 2 << 20, Time: now.Add(-2 * time.Hour), Manifest: m},
			{Name: "pos-20261128T060000Z.sql.gz", Destination: "file", Status: backup.StatusPartial, Problem: "no manifest", Size: 1 << 20, Time: now.Add(-26 * time.Hour)},
		}},
		err: errors.Join(&backup.ListError{Destination: backup.Destination{Name: "file-2"}, Err: errors.New("open /secret/path: permission denied")}),
	}
	q := &queue{}
	f := newFixtureWith(t, map[string]string{"BACKUP_STORAGE": "file:///var/backups/a,file:///var/backups/b", "BACKUP_DIR": "/var/backups/a"},
		func(o *Options) { o.Backups, o.Enqueue = l, q.enqueue })
	f.clock.t = now
	vic, ana := f.session("vic", vicPass), f.session("ana", anaPass)
	page := func(cookie string) string {
		t.Helper()
		w := f.do(f.h, req{method: "GET", path: Root + "/backups", cookie: cookie, headers: []string{"Sec-Fetch-Mode", "navigate", "Accept-Language", "en"}})
		if w.Code != http.StatusOK {
			t.Fatalf("backups page: %d %s", w.Code, w.Body)
		}
		return w.Body.String()
	}
	body := page(vic)
	for _, want := range []string{
		`<h2 id="dest-file">file <small>file:///var/backups/a</small>`, `data-backup="pos-20261129T060000Z.sql.gz" data-state="good"`,
		"2.0 MiB", "2h0m0s", `data-state="partial"`, "partial: no manifest", "&#34;sha256&#34;: &#34;abc123&#34;",
		`<h2 id="dest-file-2">file-2`, "This destination could not be listed",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("viewer's page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "/secret/path") || strings.Contains(body, "backup-now") {
		t.Errorf("viewer's page shows the storage's error or the buttons:\n%s", body)
	}
	if !strings.Contains(page(ana), `id="backup-now"`) {
		t.Errorf("operator's page has no button")
	}

	post := func(cookie, path string, headers ...string) *http.Response {
		t.Helper()
		return f.do(f.h, req{method: "POST", path: Root + path, cookie: cookie, headers: headers}).Result()
	}
	if r := post(vic, "/backups/run", sameOrigin...); r.StatusCode != http.StatusForbidden {
		t.Errorf("viewer's back up now: %d, want 403", r.StatusCode)
	}
	if r := post(ana, "/backups/run", "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site back up now: %d, want 403", r.StatusCode)
	}
	if len(q.args) != 0 {
		t.Fatalf("queued %v, want nothing yet", q.args)
	}
	r := post(ana, "/backups/run", sameOrigin...)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != Root+"/backups?queued=task-backup%3Arun&type=backup%3Arun" {
		t.Errorf("back up now: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := post(ana, "/backups/verify", sameOrigin...); r.StatusCode != http.StatusSeeOther {
		t.Errorf("verify now: %d", r.StatusCode)
	}
	run, ok := q.args[0].(tasks.BackupRun)
	if len(q.args) != 2 || !ok || run.Trigger != backup.TriggerConsole || !run.RequestedAt.Equal(now) || q.args[1] != (tasks.BackupVerify{}) {
		t.Errorf("queued %+v, want a backup:run by the console at %s, then a backup:verify of the latest", q.args, now)
	}
	findAudit(t, f.log, map[string]any{"action": ActionBackup, "user": "ana", "task_id": "task-backup:run", "detail": "backup:run"})
	findAudit(t, f.log, map[string]any{"action": ActionBackup, "user": "ana", "task_id": "task-backup:verify"})
	w := f.do(f.h, req{method: "GET", path: Root + "/backups?queued=task-backup%3Arun&type=backup%3Arun", cookie: ana, headers: []string{"Accept-Language", "en"}})
	if !strings.Contains(w.Body.String(), "Task queued: <code>task-backup:run</code> (backup:run)") {
		t.Errorf("page after queueing:\n%s", w.Body)
	}
}

// TestHomePage links queues, backups and health for everyone, and the
// audit page for operators.
func TestHomePage(t *testing.T) {
	f := newFixture(t, nil)
	for _, u := range []struct {
		name, pw string
		audit    bool
	}{{"vic", vicPass, false}, {"ana", anaPass, true}} {
		w := f.do(f.h, req{method: "GET", path: Root + "/home", cookie: f.session(u.name, u.pw), headers: []string{"Accept-Language", "en"}})
		body := w.Body.String()
		for _, link := range []string{`href="/monitoring/"`, `href="/monitoring/backups"`, `href="/health/"`} {
			if !strings.Contains(body, link) {
				t.Errorf("%s's home page lacks %s", u.name, link)
			}
		}
		if got := strings.Contains(body, `<li><a href="/monitoring/audit">`); got != u.audit {
			t.Errorf("%s's home page links the audit page: %v, want %v", u.name, got, u.audit)
		}
	}
}
