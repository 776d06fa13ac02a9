package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// djangoPython is Debian's Python, the one that sees python3-django and
// python3-django-redis (the python3 on PATH may be another).
const djangoPython = "/usr/bin/python3"

// needDjango skips the test when Debian's Django or django-redis is
// missing, and fails it instead in CI (CI=true) or under make test
// (CANTINA_REQUIRE_SERVICES=1, which installs them): CI cannot pass by
// skipping.
func needDjango(t *testing.T) {
	t.Helper()
	out, err := exec.Command(djangoPython, "-c", "import django, django_redis").CombinedOutput()
	if err == nil {
		return
	}
	msg := "Django client test needs " + djangoPython + " with Django and django-redis (apt-get install -y python3-django python3-django-redis python3-redis): " + strings.TrimSpace(string(out))
	if os.Getenv("CI") == "true" || os.Getenv("CANTINA_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// startBinary starts `cantina-ops args…` until the test ends, its output
// kept for failure messages.
func startBinary(t *testing.T, env map[string]string, args ...string) *testenv.SyncBuffer {
	t.Helper()
	logs, _ := startProcess(t, binCmd(t, env, args...))
	return logs
}

// startProcess starts cmd until the test ends (interrupted, then killed
// after 30 s), its output kept for failure messages; exited is closed
// when it has exited.
func startProcess(t *testing.T, cmd *exec.Cmd) (logs *testenv.SyncBuffer, exited <-chan struct{}) {
	t.Helper()
	logs = &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", filepath.Base(cmd.Path), err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { testenv.StopProcess(cmd.Process, os.Interrupt, done) })
	return logs, done
}

// TestDjangoClient: a Django project (Debian's Django 3.2 and django-redis
// 5.2) with a KEY_PREFIX and VERSION stores keys with cache.set and
// cache_result, tags some with tag(), and calls invalidate() by key,
// pattern and tag through a real `cantina-ops web` and `worker`; Django's
// cache.get then misses exactly those keys, hits every other, and the
// decorated functions recompute exactly the invalidated results.
func TestDjangoClient(t *testing.T) {
	needDjango(t)
	queue, cacheDB := testenv.Redis(t), testenv.Redis(t)
	const token = "pos-token-0123456789abcdef"
	const prefix, version = "cantina*pos", 7 // a glob character in the prefix must match itself only
	port := freePort(t)
	env := map[string]string{
		"REDIS_URL": queue.URL(), "CACHE_REDIS_URL": cacheDB.URL(),
		"CACHE_KEY_PREFIX": prefix, "CACHE_VERSION": "7",
		"DATABASE_URL": "mysql://cantina:unused@127.0.0.1:1/cantina",
		"API_TOKENS":   "pos:" + token, "PORT": port,
		// No periodic task gets in the way.
		"HEALTH_SCHEDULE": "0 0 1 1 *",
	}
	webLogs := startBinary(t, env, "web")
	workerLogs := startBinary(t, env, "worker")
	base := "http://127.0.0.1:" + port
	waitAlive(t, base)

	pyEnv := []string{
		"PATH=" + os.Getenv("PATH"), "PYTHONDONTWRITEBYTECODE=1", // no __pycache__ in the repo
		"PYTHONPATH=" + filepath.Join("..", "..", "contrib", "django"),
		"CACHE_LOCATION=" + cacheDB.URL(), "KEY_PREFIX=" + prefix, "VERSION=7",
		"CANTINA_OPS_URL=" + base, "CANTINA_OPS_TOKEN=" + token,
	}
	python := func(phase string, v any) string {
		t.Helper()
		cmd := exec.Command(djangoPython, filepath.Join("..", "..", "contrib", "django", "testdata", "django_client.py"), phase)
		cmd.Env = pyEnv
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("django %s: %v\n%s\nweb:\n%s\nworker:\n%s", phase, err, stderr.String(), webLogs, workerLogs)
		}
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("django %s printed %q: %v", phase, out, err)
		}
		return stderr.String()
	}

	var fill struct {
		Keys   map[string]string
		Calls  int
		TagSet string `json:"tag_set"`
	}
	python("fill", &fill)
	ks := cache.Keyspace{Prefix: prefix, Version: version}
	ctx := context.Background()
	crdb := cacheDB.Client(t)
	// Django's real keys are the Keyspace's: both sides name them alike.
	if fill.Keys["productos:1"] != ks.Key("productos:1") || fill.TagSet != ks.TagSet("categoria:5") {
		t.Fatalf("Django's keys %v and tag set %q are not the Keyspace's", fill.Keys, fill.TagSet)
	}
	for name, k := range fill.Keys {
		if n, err := crdb.Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Fatalf("%s (%s) not stored: %v", name, k, err)
		}
	}
	if fill.Calls != 4 {
		t.Errorf("cache_result computed %d times for 4 distinct calls and 2 repeats", fill.Calls)
	}

	var inv struct{ Results []map[string]any }
	if logged := python("invalidate", &inv); logged != "" {
		t.Errorf("invalidate() logged: %s", logged)
	}
	if len(inv.Results) != 3 {
		t.Fatalf("invalidate results %v", inv.Results)
	}
	// With wait=true the answer is the result, or a task still running:
	// wait for those through the Inspector.
	insp := asynq.NewInspectorFromRedisClient(queue.Client(t))
	for i, res := range inv.Results {
		if res == nil {
			t.Fatalf("invalidate() call %d failed (see the log above)\nweb:\n%s", i+1, webLogs)
		}
		id, _ := res["task_id"].(string)
		if id == "" {
			continue
		}
		testenv.Eventually(t, 30*time.Second, "cache:invalidate "+id+" completed", func() bool {
			for _, q := range tasks.AllQueues() {
				if ti, err := insp.GetTaskInfo(q, id); err == nil {
					return ti.State == asynq.TaskStateCompleted
				} else if !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
					t.Fatalf("task %s: %v", id, err)
				}
			}
			return false
		})
	}

	var check struct {
		Hit        map[string]bool
		Recomputed []string
	}
	python("check", &check)
	gone := map[string]bool{
		"dashboard:ventas": true, "reporte(1)": true, // by key
		"productos:1": true, "productos:2": true, // by pattern productos:*
		"precio:7": true, "menu(5)": true, // by tag categoria:5
	}
	if len(check.Hit) != len(fill.Keys) {
		t.Errorf("checked %d keys, stored %d", len(check.Hit), len(fill.Keys))
	}
	for name, hit := range check.Hit {
		if hit == gone[name] {
			t.Errorf("%s: cache.get hit = %v, want %v", name, hit, !gone[name])
		}
	}
	if got := strings.Join(check.Recomputed, ","); got != "menu(5),reporte(1)" {
		t.Errorf("recomputed %s, want menu(5),reporte(1)", got)
	}
	// The tag's set went with its members: now it holds only what check's
	// recomputed menu(5) tagged anew. The other tags' sets stay.
	if m, err := crdb.SMembers(ctx, ks.TagSet("categoria:5")).Result(); err != nil || len(m) != 1 || m[0] != fill.Keys["menu(5)"] {
		t.Errorf("tag set %s holds %v (%v), want only the recomputed %s", ks.TagSet("categoria:5"), m, err, fill.Keys["menu(5)"])
	}
	if n, _ := crdb.Exists(ctx, ks.TagSet("categoria:6"), ks.TagSet("ofertas")).Result(); n != 2 {
		t.Errorf("%d of the 2 untouched tag sets left", n)
	}
	if strings.Contains(webLogs.String()+workerLogs.String(), token) {
		t.Errorf("the API token appears in the logs")
	}
}

// waitAlive waits until the web process at base answers /alive/.
func waitAlive(t *testing.T, base string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, base+" answers /alive/", func() bool {
		resp, err := http.Get(base + "/alive/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}
