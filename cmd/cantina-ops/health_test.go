package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/health"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/hibiken/asynq"
)

func healthReport() health.Report {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	return health.Report{Status: health.Fail, Time: at, Checks: map[string]health.Result{
		"database:responseTime": {Status: health.Pass, ObservedValue: 1.234, ObservedUnit: "ms", Threshold: "warn ≥ 500 ms", Time: at},
		"cache:hitRatio":        {Status: health.Pass, ObservedValue: 0.8731, Time: at},
		"disk:utilization":      {Status: health.Warn, ObservedValue: 83.46, ObservedUnit: "%", Threshold: "warn ≥ 80 %, fail ≥ 90 %", Output: "the backup disk is filling up", Time: at},
		"backups:age":           {Status: health.Fail, ObservedValue: 30, ObservedUnit: "h", Threshold: "fail > 26 h", Output: "no verified backup for 30 h: run cantina-ops backup run", Time: at},
		"queue:memory":          {Status: health.Pass, ObservedValue: int64(3 << 20), ObservedUnit: "B", Time: at},
	}}
}

// TestHealthTable: without --verbose only the checks that did not pass,
// worst first, then the summary; with it every check.
func TestHealthTable(t *testing.T) {
	tests := []struct {
		name    string
		verbose bool
		want    []string // in this order
		absent  []string
	}{
		{"problems only", false, []string{
			"CHECK", "STATUS", "VALUE", "THRESHOLD", "HINT",
			"backups:age", "fail", "30 h", "fail > 26 h", "no verified backup for 30 h",
			"disk:utilization", "warn", "83.5 %", "warn ≥ 80 %, fail ≥ 90 %", "the backup disk is filling up",
			"status: fail (5 checks: 3 pass, 1 warn, 1 fail); --verbose shows every check",
		}, []string{"database:responseTime", "cache:hitRatio", "queue:memory"}},
		{"verbose", true, []string{
			"backups:age", "disk:utilization",
			"cache:hitRatio", "pass", "0.873", "-",
			"database:responseTime", "1.2 ms", "warn ≥ 500 ms",
			"queue:memory", "3.0 MiB",
			"status: fail (5 checks: 3 pass, 1 warn, 1 fail)\n",
		}, []string{"--verbose shows"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printHealth(&out, healthReport(), false, tt.verbose); err != nil {
				t.Fatal(err)
			}
			rest := out.String()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (or not in order):\n%s", w, out.String())
				}
				rest = rest[i+len(w):]
			}
			for _, a := range tt.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("output has %q:\n%s", a, out.String())
				}
			}
		})
	}
	t.Run("all pass", func(t *testing.T) {
		var out bytes.Buffer
		rep := health.Report{Status: health.Pass, Checks: map[string]health.Result{"cpu:utilization": {Status: health.Pass}}}
		if err := printHealth(&out, rep, false, false); err != nil {
			t.Fatal(err)
		}
		if out.String() != "status: pass (1 checks: 1 pass, 0 warn, 0 fail); --verbose shows every check\n" {
			t.Errorf("output %q, want the summary alone", out.String())
		}
	})
}

// TestHealthJSONIsTheEndpointsDocument: --json prints the bytes the web
// handler serves for the same report.
func TestHealthJSONIsTheEndpointsDocument(t *testing.T) {
	var out bytes.Buffer
	if err := printHealth(&out, healthReport(), true, false); err != nil {
		t.Fatal(err)
	}
	want, err := health.EncodeDocument(healthReport(), version)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("--json printed\n%s\nwant\n%s", out.String(), want)
	}
}

// TestHealthCommand runs the binary against the real services, then with
// the database down.
func TestHealthCommand(t *testing.T) {
	srv, name := testenv.MySQLDatabase(t)
	r := testenv.Redis(t)
	liveQueue(t, r)
	up := systemChecksOff(map[string]string{"REDIS_URL": r.URL(), "DATABASE_URL": srv.URL(name), "HEALTH_TIMEOUT": "2s"})
	down := map[string]string{"REDIS_URL": r.URL(), "DATABASE_URL": "mysql://cantina:" + cmdDBPassword + "@127.0.0.1:" + freePort(t) + "/cantina", "HEALTH_TIMEOUT": "2s"}

	type doc struct {
		Status string
		Checks map[string][]struct{ Status, Output string }
	}
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		status string
		want   []string
	}{
		{"table", up, nil, 0, "warn", []string{"backups:age", "no backup yet", "status: warn (17 checks: ", "0 fail)"}},
		{"verbose", up, []string{"--verbose"}, 0, "warn", []string{"CHECK", "database:responseTime", "queue:responseTime", "status: warn"}},
		{"json", up, []string{"--json"}, 0, "warn", nil},
		{"database down", down, nil, 1, "fail", []string{"database:responseTime", "fail", "status: fail"}},
		{"database down, json", down, []string{"--json"}, 1, "fail", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.env, append([]string{"health"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if len(tt.args) == 0 || tt.args[0] != "--json" {
				return
			}
			var d doc
			if err := json.Unmarshal([]byte(out), &d); err != nil || d.Status != tt.status || len(d.Checks["database:responseTime"]) != 1 {
				t.Fatalf("stdout is not the health document (%v):\n%s", err, out)
			}
			if db := d.Checks["database:responseTime"][0]; (db.Output != "") != (db.Status != "pass") {
				t.Errorf("database check %+v: output must be there exactly when it does not pass", db)
			}
		})
	}
}

// liveQueue makes r's queue look like a running system's: a worker process
// (an asynq server) and a scheduler leader holding the lease, so that only
// what a test changes fails.
func liveQueue(t *testing.T, r testenv.RedisDB) {
	t.Helper()
	rdb := r.Client(t)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 1, LogLevel: asynq.ErrorLevel})
	if err := srv.Start(asynq.NewServeMux()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	if err := rdb.Set(context.Background(), tasks.SchedulerLeaseKey, "test", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	testenv.Eventually(t, 30*time.Second, "the worker's heartbeat", func() bool {
		s, err := insp.Servers()
		return err == nil && len(s) > 0
	})
}
