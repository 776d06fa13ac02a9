package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// fixed is a check with a fixed result.
func fixed(name string, r health.Result) health.Check {
	return health.Check{Name: name, Run: func(context.Context) health.Result { return r }}
}

// counted wraps h and counts the requests that entered it.
func counted(h http.Handler, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

// getAll sends n concurrent GETs and returns the responses.
func getAll(t *testing.T, url string, n int) []response {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: n, MaxIdleConnsPerHost: n}}
	t.Cleanup(client.CloseIdleConnections)
	out := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var body json.RawMessage
			_ = json.NewDecoder(res.Body).Decode(&body)
			out[i] = response{res.StatusCode, string(body), res.Header}
		}()
	}
	wg.Wait()
	return out
}

// TestHealthConcurrentRequestsOneRound: 200 concurrent GET /health/
// through the real HTTP server, all in flight while the checks are blocked,
// make exactly one round.
func TestHealthConcurrentRequestsOneRound(t *testing.T) {
	const requests = 200
	var checkRuns atomic.Int64
	started, release := make(chan struct{}, requests), make(chan struct{})
	blocking := health.Check{Name: "disk:utilization", Run: func(context.Context) health.Result {
		checkRuns.Add(1)
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return health.Result{Status: health.Warn, ObservedValue: 85, ObservedUnit: "%", Output: "disk filling up"}
	}}
	s := newServer(t, map[string]string{"HEALTH_CACHE_TTL": "1h"}, func(d *Deps) {
		d.Health = &health.Checker{Checks: []health.Check{blocking}, Timeout: time.Minute}
	})
	var entered atomic.Int64
	ts := httptest.NewServer(counted(s.Handler(), &entered))
	t.Cleanup(ts.Close)

	done := make(chan []response)
	go func() { done <- getAll(t, ts.URL+"/health/", requests) }()
	<-started
	testenv.Eventually(t, 30*time.Second, "every request in the handler", func() bool { return entered.Load() == requests })
	close(release)
	responses := <-done

	if n := s.rounds.Runs(); n != 1 || checkRuns.Load() != 1 {
		t.Errorf("%d concurrent requests made %d rounds (check ran %d times), want 1", requests, n, checkRuns.Load())
	}
	for i, r := range responses {
		if r.code != http.StatusOK || r.body != responses[0].body {
			t.Fatalf("response %d: %d %s, want 200 and the same document as the first", i, r.code, r.body)
		}
	}
}

// TestHealthEndpoint: the document, its status code and headers, for a
// passing, a warning and a failing round.
func TestHealthEndpoint(t *testing.T) {
	tests := []struct {
		name   string
		result health.Result
		code   int
	}{
		{"pass", health.Result{Status: health.Pass, ObservedValue: 12, ObservedUnit: "%", Output: "fine"}, http.StatusOK},
		{"warn", health.Result{Status: health.Warn, ObservedValue: 85, ObservedUnit: "%", Output: "filling up"}, http.StatusOK},
		{"fail", health.Result{Status: health.Fail, ObservedValue: 97, ObservedUnit: "%", Output: "full"}, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, map[string]string{"HEALTH_CACHE_TTL": "15s"}, func(d *Deps) {
				d.Health = &health.Checker{Checks: []health.Check{
					fixed("disk:utilization", tt.result),
					fixed("database:responseTime", health.Result{Status: health.Pass, ObservedValue: 1.25, ObservedUnit: "ms"}),
				}}
				d.Version = "9.9.9"
			})
			ts := httptest.NewServer(s.Handler())
			t.Cleanup(ts.Close)
			r := do(t, "GET", ts.URL+"/health/", nil)
			if r.code != tt.code {
				t.Errorf("GET /health/ = %d, want %d: %s", r.code, tt.code, r.body)
			}
			if ct, cc := r.hdr.Get("Content-Type"), r.hdr.Get("Cache-Control"); ct != "application/health+json" || cc != "max-age=15" {
				t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
			}
			var doc struct {
				Status  string
				Version string
				Checks  map[string][]map[string]any
			}
			if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
				t.Fatalf("not a health document: %v: %s", err, r.body)
			}
			if doc.Status != string(tt.result.Status) || doc.Version != "9.9.9" || len(doc.Checks) != 2 {
				t.Errorf("document %+v", doc)
			}
			disk := doc.Checks["disk:utilization"]
			if len(disk) != 1 || disk[0]["status"] != string(tt.result.Status) || disk[0]["observedValue"] != float64(tt.result.ObservedValue.(int)) ||
				disk[0]["observedUnit"] != "%" || disk[0]["time"] == nil {
				t.Errorf("disk:utilization = %v", disk)
			}
			if out, has := disk[0]["output"]; has != (tt.result.Status != health.Pass) || (has && out != tt.result.Output) {
				t.Errorf("output %v (present %v): want the hint exactly when not pass", out, has)
			}
			last, _ := s.rounds.Last()
			want, _ := health.EncodeDocument(last, "9.9.9")
			if r.body != string(want) {
				t.Errorf("body is not EncodeDocument of the round:\n%s\nwant\n%s", r.body, want)
			}
		})
	}
}

// TestHealthDefaultsToReadiness: without Deps.Health, /health/ serves the
// readiness checks rather than nothing.
func TestHealthDefaultsToReadiness(t *testing.T) {
	ts := server(t, nil)
	r := do(t, "GET", ts.URL+"/health/", nil)
	var doc struct {
		Checks map[string][]struct{ Status string }
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil || r.code != 200 || len(doc.Checks["database"]) != 1 {
		t.Errorf("GET /health/ = %d %s", r.code, r.body)
	}
}

// TestReadyFloodOneQuery: concurrent /ready/ probes within the cache's
// second cost one database query. The pool has one connection, which the
// test holds until every probe is in flight; MariaDB's own per-connection
// counter of statements ("Questions") then shows what the probes sent.
func TestReadyFloodOneQuery(t *testing.T) {
	const probes = 50
	var db *sql.DB
	s := newServer(t, nil, func(d *Deps) {
		d.DB.SetMaxOpenConns(1)
		db = d.DB
	})
	var entered atomic.Int64
	ts := httptest.NewServer(counted(s.Handler(), &entered))
	t.Cleanup(ts.Close)

	ctx := context.Background()
	held, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	connID := func(c *sql.Conn) (id int64) {
		if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	questions := func(c *sql.Conn) (n int64) {
		var name string
		if err := c.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Questions'").Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	id := connID(held)
	q0 := questions(held)
	q1 := questions(held)
	perShow := q1 - q0 // what reading the counter itself adds

	done := make(chan []response)
	go func() { done <- getAll(t, ts.URL+"/ready/", probes) }()
	testenv.Eventually(t, 30*time.Second, "every probe in the handler and the round waiting for the connection", func() bool {
		return entered.Load() == probes && db.Stats().WaitCount >= 1
	})
	_ = held.Close() // hand the connection to the round
	for i, r := range <-done {
		if r.code != http.StatusOK {
			t.Fatalf("probe %d: %d %s", i, r.code, r.body)
		}
	}
	again, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	q2 := questions(again)
	if connID(again) != id {
		t.Fatal("the pool opened another connection; the counter is per connection")
	}
	if sent := q2 - q1 - perShow; sent != 1 || s.readiness.Runs() != 1 {
		t.Errorf("%d probes sent %d statements to the database in %d rounds, want 1 and 1", probes, sent, s.readiness.Runs())
	}
}
