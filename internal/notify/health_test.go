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

func TestTransition(t *testing.T) {
	P, W, F := health.Pass, health.Warn, health.Fail
	tests := []struct {
		from, to health.Status
		want     Kind
	}{
		{P, P, ""}, {W, W, ""}, {F, F, ""},
		{P, W, KindHealthDegraded},
		{P, F, KindHealthFailed},
		{W, F, KindHealthFailed},
		{W, P, KindHealthRecovered},
		{F, P, KindHealthRecovered},
		{F, W, ""}, // better, not well: the next email is "recovered" or "failed"
	}
	for _, tt := range tests {
		got, ok := transition(tt.from, tt.to)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("transition(%s, %s) = %q, %v; want %q", tt.from, tt.to, got, ok, tt.want)
		}
	}
}

func report(status health.Status, checks map[string]health.Status) health.Report {
	rep := health.Report{Status: status, Checks: map[string]health.Result{}, Time: time.Now().UTC()}
	for name, s := range checks {
		rep.Checks[name] = health.Result{Status: s, Output: name + " says " + string(s)}
	}
	return rep
}

// TestHealthWatch walks a status history against the real Redis and checks
// which emails are queued, including a crash between queuing the email and
// storing the status.
func TestHealthWatch(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t).Client(t)
	cfg := testConfig(t)
	cfg.Email.To = []string{"admin@example.com"}
	q := &fakeQueue{}
	w := &HealthWatch{Redis: rdb, Notifier: New(cfg, q, logging.Discard()), Database: "cantina"}
	P, W, F := health.Pass, health.Warn, health.Fail

	steps := []struct {
		rep     health.Report
		kind    Kind
		key     string
		queued  int // emails queued so far
		pre     func()
		inspect func(Data)
	}{
		{rep: report(P, map[string]health.Status{"database": P})},
		{rep: report(W, map[string]health.Status{"database": P, "disk": W}), kind: KindHealthDegraded, key: "cantina:pass-warn:1", queued: 1,
			inspect: func(d Data) {
				if len(d.Health.Checks) != 1 || d.Health.Checks[0].Name != "disk" || d.Health.Checks[0].Output != "disk says warn" {
					t.Errorf("degraded email lists %+v, want the disk check", d.Health.Checks)
				}
			}},
		{rep: report(W, map[string]health.Status{"disk": W}), queued: 1},
		{rep: report(F, map[string]health.Status{"database": F, "disk": W}), kind: KindHealthFailed, key: "cantina:warn-fail:2", queued: 2,
			inspect: func(d Data) {
				if len(d.Health.Checks) != 2 || d.Health.Checks[0].Name != "database" || d.Health.From != W || d.Health.To != F || d.Health.Since.IsZero() {
					t.Errorf("failed email: %+v", d.Health)
				}
			}},
		{rep: report(W, map[string]health.Status{"database": P, "disk": W}), queued: 2},
		{rep: report(P, map[string]health.Status{"database": P, "disk": P}), kind: KindHealthRecovered, key: "cantina:warn-pass:4", queued: 3,
			inspect: func(d Data) {
				if strings.Join(d.Health.Recovered, ",") != "disk" {
					t.Errorf("recovered email lists %q, want the checks failing before", d.Health.Recovered)
				}
			}},
	}
	for i, st := range steps {
		tr, err := w.Observe(ctx, st.rep)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if tr.Kind != st.kind || tr.Key != st.key {
			t.Errorf("step %d (%s): transition %+v, want %q with key %q", i, st.rep.Status, tr, st.kind, st.key)
		}
		ids := q.ids()
		if len(ids) != st.queued {
			t.Fatalf("step %d: %d emails queued, want %d: %q", i, len(ids), st.queued, ids)
		}
		if st.kind != "" {
			want := tasks.EmailSendID(string(st.kind), st.key, "admin@example.com")
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
				st.inspect(d)
			}
		}
	}

	// A crash after queuing the email and before storing the status: the
	// stored status is still the old one when the check runs again.
	before, err := rdb.Get(ctx, HealthKeyPrefix+"cantina").Result()
	if err != nil {
		t.Fatal(err)
	}
	failing := report(F, map[string]health.Status{"database": F})
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
	if first.Key != again.Key || first.Kind != KindHealthFailed || len(q.ids()) != 4 {
		t.Errorf("after a crash: keys %q then %q, %d emails queued; want the same key and one more email", first.Key, again.Key, len(q.ids()))
	}
}

func TestHealthWatchFirstObservation(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t).Client(t)
	q := &fakeQueue{}
	w := &HealthWatch{Redis: rdb, Notifier: New(testConfig(t), q, logging.Discard()), Database: "pos"}
	tr, err := w.Observe(ctx, report(health.Fail, map[string]health.Status{"database": health.Fail}))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Kind != KindHealthFailed || tr.Key != "pos:pass-fail:0" || len(q.ids()) != 2 {
		t.Errorf("a server failing when first watched: %+v, %d queued", tr, len(q.ids()))
	}

	// Without a notifier the status is still recorded.
	w2 := &HealthWatch{Redis: rdb, Database: "other"}
	if _, err := w2.Observe(ctx, report(health.Warn, nil)); err != nil {
		t.Fatal(err)
	}
	if tr, err := w2.Observe(ctx, report(health.Pass, nil)); err != nil || tr.Kind != KindHealthRecovered {
		t.Errorf("nil notifier: %+v, %v", tr, err)
	}
}

func TestHealthWatchRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	q := &fakeQueue{}
	w := &HealthWatch{Redis: rdb, Notifier: New(testConfig(t), q, logging.Discard()), Database: "cantina"}
	if _, err := w.Observe(context.Background(), report(health.Fail, nil)); err == nil || !strings.Contains(err.Error(), "read last health status") {
		t.Errorf("error %v, want a read error", err)
	}
	if len(q.ids()) != 0 {
		t.Error("queued an email without knowing the last status")
	}
}
