package notify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// clock is a settable clock for HealthWatch.Now.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func report(at time.Time, checks map[string]health.Status) health.Report {
	rep := health.Report{Status: health.Pass, Checks: map[string]health.Result{}, Time: at}
	for name, s := range checks {
		rep.Checks[name] = health.Result{Status: s, Output: name + " says " + string(s)}
		if s.Severity() > rep.Status.Severity() {
			rep.Status = s
		}
	}
	return rep
}

func TestNoticeKind(t *testing.T) {
	a := func(c health.Change, s health.Status) health.Alert { return health.Alert{Change: c, Status: s} }
	tests := []struct {
		name   string
		alerts []health.Alert
		want   Kind
	}{
		{"new failure", []health.Alert{a(health.Firing, health.Fail)}, KindHealthFailed},
		{"escalation", []health.Alert{a(health.Worse, health.Fail)}, KindHealthFailed},
		{"new warning", []health.Alert{a(health.Firing, health.Warn)}, KindHealthDegraded},
		{"failure beats warning and recovery", []health.Alert{a(health.Resolved, health.Pass), a(health.Firing, health.Warn), a(health.Firing, health.Fail)}, KindHealthFailed},
		{"warning beats recovery", []health.Alert{a(health.Resolved, health.Pass), a(health.Firing, health.Warn)}, KindHealthDegraded},
		{"recovery beats reminder", []health.Alert{a(health.Still, health.Fail), a(health.Resolved, health.Pass)}, KindHealthRecovered},
		{"reminder", []health.Alert{a(health.Still, health.Fail), a(health.Better, health.Warn), a(health.Recovering, health.Pass)}, KindHealthReminder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := noticeKind(tt.alerts); got != tt.want {
				t.Errorf("kind %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHealthWatch walks a history against the real Redis with an injected
// clock and checks which emails are queued and with which IDs, including
// a crash between queuing the email and storing the state.
func TestHealthWatch(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t).Client(t)
	cfg := testConfig(t)
	cfg.Email.To = []string{"admin@example.com"}
	q := &fakeQueue{}
	clk := &clock{t: sampleTime}
	w := &HealthWatch{Redis: rdb, Notifier: New(cfg, q, logging.Discard()), Database: "cantina", Repeat: 6 * time.Hour, Now: clk.Now}
	P, W, F := health.Pass, health.Warn, health.Fail

	steps := []struct {
		at      time.Duration
		checks  map[string]health.Status
		kind    Kind
		key     string
		queued  int // emails queued so far
		inspect func(*Health)
	}{
		{at: 0, checks: map[string]health.Status{"db": P}},
		{at: time.Hour, checks: map[string]health.Status{"db": P, "disk": W}, kind: KindHealthDegraded, key: "cantina:0", queued: 1,
			inspect: func(h *Health) {
				if h.Status != W || len(h.Checks) != 1 || h.Checks[0].Name != "disk" || h.Checks[0].Output != "disk says warn" || h.Checks[0].Change != health.Firing {
					t.Errorf("degraded email: %+v", h)
				}
			}},
		{at: 2 * time.Hour, checks: map[string]health.Status{"disk": W}, queued: 1},
		{at: 3 * time.Hour, checks: map[string]health.Status{"db": F, "disk": W}, kind: KindHealthFailed, key: "cantina:1", queued: 2,
			inspect: func(h *Health) {
				if h.Status != F || len(h.Checks) != 2 || h.Checks[0].Name != "db" || h.Checks[1].Change != health.Still || h.Repeat != 6*time.Hour {
					t.Errorf("failed email: %+v", h)
				}
			}},
		{at: 8*time.Hour + 54*time.Minute, checks: map[string]health.Status{"db": F, "disk": W}, queued: 2},
		{at: 9 * time.Hour, checks: map[string]health.Status{"db": F, "disk": W}, kind: KindHealthReminder, key: "cantina:2", queued: 3},
		{at: 10 * time.Hour, checks: map[string]health.Status{"db": P, "disk": P}, queued: 3},
		{at: 11 * time.Hour, checks: map[string]health.Status{"db": P, "disk": P}, kind: KindHealthRecovered, key: "cantina:3", queued: 4,
			inspect: func(h *Health) {
				if h.Status != P || len(h.Checks) != 0 || len(h.Recovered) != 2 || h.Recovered[0].Was != F || !h.Recovered[0].Since.Equal(sampleTime.Add(3*time.Hour)) {
					t.Errorf("recovered email: %+v", h)
				}
			}},
	}
	for i, st := range steps {
		clk.t = sampleTime.Add(st.at)
		n, err := w.Observe(ctx, report(clk.t, st.checks))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		// Notice keys are "<db>:<epoch>:<seq>"; the epoch is the stored
		// state's, random for each fresh state.
		var stored health.AlertState
		if raw, err := rdb.Get(ctx, HealthKeyPrefix+"cantina").Bytes(); err != nil || json.Unmarshal(raw, &stored) != nil || stored.Epoch == "" {
			t.Fatalf("step %d: stored state %s, %v", i, raw, err)
		}
		wantKey := ""
		if st.key != "" {
			wantKey = strings.Replace(st.key, "cantina:", "cantina:"+stored.Epoch+":", 1)
		}
		if n.Kind != st.kind || n.Key != wantKey {
			t.Errorf("step %d: notice %q %q, want %q with key %q", i, n.Kind, n.Key, st.kind, wantKey)
		}
		ids := q.ids()
		if len(ids) != st.queued {
			t.Fatalf("step %d: %d emails queued, want %d: %q", i, len(ids), st.queued, ids)
		}
		if st.kind == "" {
			continue
		}
		want := tasks.EmailSendID(string(st.kind), wantKey, "admin@example.com")
		if ids[len(ids)-1] != want {
			t.Errorf("step %d: task ID %q, want %q", i, ids[len(ids)-1], want)
		}
		if st.inspect != nil {
			p, err := tasks.Decode[tasks.EmailSend](q.tasks[want])
			if err != nil {
				t.Fatal(err)
			}
			var d Data
			if err := json.Unmarshal(p.Event, &d); err != nil {
				t.Fatal(err)
			}
			st.inspect(d.Health)
		}
	}

	// A crash after queuing the email and before storing the state: the
	// stored state is still the old one when the round runs again.
	before, err := rdb.Get(ctx, HealthKeyPrefix+"cantina").Result()
	if err != nil {
		t.Fatal(err)
	}
	clk.t = sampleTime.Add(12 * time.Hour)
	failing := report(clk.t, map[string]health.Status{"db": F})
	first, err := w.Observe(ctx, failing)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, HealthKeyPrefix+"cantina", before, 0).Err(); err != nil {
		t.Fatal(err)
	}
	again, err := w.Observe(ctx, failing)
	if err != nil {
		t.Fatal(err)
	}
	if first.Key != again.Key || first.Kind != KindHealthFailed || len(q.ids()) != 5 {
		t.Errorf("after a crash: keys %q then %q, %d emails queued; want the same key and one more email", first.Key, again.Key, len(q.ids()))
	}
}

func TestHealthWatchWithoutNotifierKeepsState(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t).Client(t)
	clk := &clock{t: sampleTime}
	w := &HealthWatch{Redis: rdb, Database: "other", Now: clk.Now}
	first, err := w.Observe(ctx, report(clk.t, map[string]health.Status{"disk": health.Warn}))
	if err != nil || first.Kind != KindHealthDegraded {
		t.Fatalf("nil notifier: %+v, %v", first, err)
	}
	for i := range 2 {
		clk.t = clk.t.Add(time.Hour)
		n, err := w.Observe(ctx, report(clk.t, map[string]health.Status{"disk": health.Pass}))
		if err != nil {
			t.Fatal(err)
		}
		if want := []Kind{"", KindHealthRecovered}[i]; n.Kind != want {
			t.Errorf("pass %d: %q, want %q", i+1, n.Kind, want)
		}
	}

	// An unreadable state starts afresh: a failing check is news again.
	if err := rdb.Set(ctx, HealthKeyPrefix+"other", "{not json", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// Its notices restart at 0 under a new epoch: never the old email IDs.
	n, err := w.Observe(ctx, report(clk.t, map[string]health.Status{"disk": health.Fail}))
	if err != nil || n.Kind != KindHealthFailed || !strings.HasPrefix(n.Key, "other:") || !strings.HasSuffix(n.Key, ":0") || n.Key == first.Key {
		t.Errorf("after a bad state: %+v (first notice %q), %v", n, first.Key, err)
	}
}

func TestHealthWatchRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	q := &fakeQueue{}
	w := &HealthWatch{Redis: rdb, Notifier: New(testConfig(t), q, logging.Discard()), Database: "cantina"}
	if _, err := w.Observe(context.Background(), report(sampleTime, map[string]health.Status{"db": health.Fail})); err == nil || !strings.Contains(err.Error(), "health alert state") {
		t.Errorf("error %v, want an error about the alert state", err)
	}
	if len(q.ids()) != 0 {
		t.Error("queued an email without knowing the alert state")
	}
}

// TestRenderHealthChanges: each change reads as itself in both languages.
func TestRenderHealthChanges(t *testing.T) {
	r := NewRenderer(testConfig(t))
	want := map[string][]string{
		"es": {"nuevo", "empeora (antes: degradado)", "vuelve a pasar", "Recuperadas:", "queue:memory: correcto", "cada 6 h"},
		"en": {"new", "worse (was degraded)", "passes again", "Recovered:", "queue:memory: passing", "every 6 h"},
	}
	for lang, phrases := range want {
		t.Run(lang, func(t *testing.T) {
			m, err := r.Render(KindHealthFailed, lang, "admin@example.com", sample(KindHealthFailed), "")
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range phrases {
				if !strings.Contains(m.Text, p) {
					t.Errorf("text lacks %q:\n%s", p, m.Text)
				}
				// The HTML tables show the same changes.
				if i < 3 && !strings.Contains(m.HTML, p) {
					t.Errorf("HTML lacks %q:\n%s", p, m.HTML)
				}
			}
		})
	}
	d := sample(KindHealthRecovered)
	d.Health.Status = health.Fail
	d.Health.Checks = []Check{{Name: "backups:age", Status: health.Fail, Change: health.Still, Was: health.Fail}}
	m, err := r.Render(KindHealthRecovered, "en", "admin@example.com", d, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "[cantina-ops] 🟡 Partly recovered: cantina" || !strings.Contains(m.Text, "backups:age: failing · unchanged") {
		t.Errorf("a partial recovery: %q\n%s", m.Subject, m.Text)
	}
}
