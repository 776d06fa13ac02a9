package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

const testToken = "pos-token-0123456789abcdef"

// apiServer serves the web handler on a fresh Redis database that is both
// the queue and the cache Redis, with API_TOKENS as given. The API needs
// no database.
func apiServer(t *testing.T, tokens string) (*httptest.Server, *redis.Client) {
	t.Helper()
	db := testenv.Redis(t)
	vars := map[string]string{"REDIS_URL": db.URL(), "DATABASE_URL": "mysql://u:unused-pw@127.0.0.1:1/pos",
		"CACHE_KEY_PREFIX": "pos", "API_TOKENS": tokens}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	rdb := db.Client(t)
	s := New(cfg, Deps{Redis: rdb, Logger: logging.Discard()})
	t.Cleanup(s.close)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, rdb
}

// post sends body to the invalidate route as the POS does; mod may change
// the request after that.
func post(t *testing.T, ts *httptest.Server, body string, mod func(*http.Request)) response {
	t.Helper()
	return do(t, http.MethodPost, ts.URL+invalidatePath, func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+testToken)
		if mod != nil {
			mod(r)
		}
	})
}

// queued is the number of tasks in every queue.
func queued(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	insp := asynq.NewInspectorFromRedisClient(rdb)
	queues, err := insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range queues {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size
	}
	return n
}

// TestAPIErrors: every bad request gets its 4xx with a JSON error, and
// nothing is enqueued.
func TestAPIErrors(t *testing.T) {
	ts, rdb := apiServer(t, "pos:"+testToken+",ci:ci-token-0123456789abcdef")
	tooMany := `{"keys":[` + strings.Repeat(`"k",`, cache.MaxSelectors) + `"k"]}`
	huge := `{"keys":["` + strings.Repeat("x", MaxAPIBody) + `"]}`
	header := func(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(k, v) } }
	tests := []struct {
		name string
		body string
		mod  func(*http.Request)
		code int
		want string
	}{
		{"no token", `{"keys":["a"]}`, func(r *http.Request) { r.Header.Del("Authorization") }, 401, "bearer token"},
		{"wrong token", `{"keys":["a"]}`, header("Authorization", "Bearer pos-token-0123456789abcdeX"), 401, "bearer token"},
		{"basic auth", `{"keys":["a"]}`, func(r *http.Request) { r.SetBasicAuth("pos", testToken) }, 401, "bearer token"},
		{"no content type", `{"keys":["a"]}`, func(r *http.Request) { r.Header.Del("Content-Type") }, 415, "application/json"},
		{"wrong content type", `{"keys":["a"]}`, header("Content-Type", "text/plain"), 415, "application/json"},
		{"bad JSON", `{"keys":`, nil, 400, "bad JSON"},
		{"unknown field", `{"key":["a"]}`, nil, 400, "unknown field"},
		{"trailing data", `{"keys":["a"]} {}`, nil, 400, "trailing"},
		{"empty request", `{}`, nil, 400, "nothing to invalidate"},
		{"too many selectors", tooMany, nil, 400, "1001 selectors"},
		{"star", `{"patterns":["*"]}`, nil, 400, "whole cache"},
		{"queue keys", `{"raw":true,"patterns":["asynq:*"],"keys":["asynq:queues"]}`, nil, 400, "job queue"},
		{"oversized", huge, nil, 413, "64 KiB"},
		{"oversized without length", huge, func(r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(strings.NewReader(huge))
		}, 413, "64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, ts, tt.body, tt.mod)
			var e struct{ Error string }
			if r.code != tt.code || json.Unmarshal([]byte(r.body), &e) != nil || !strings.Contains(r.body, tt.want) {
				t.Errorf("%d %s; want %d with a JSON error saying %q", r.code, r.body, tt.code, tt.want)
			}
			if n := queued(t, rdb); n != 0 {
				t.Errorf("%d tasks queued after a refused request", n)
			}
		})
	}
	t.Run("GET on invalidate", func(t *testing.T) {
		if r := do(t, "GET", ts.URL+invalidatePath, nil); r.code != 405 {
			t.Errorf("%d %s, want 405", r.code, r.body)
		}
	})
	t.Run("task without token", func(t *testing.T) {
		if r := do(t, "GET", ts.URL+APIPrefix+"/tasks/x", nil); r.code != 401 {
			t.Errorf("%d %s, want 401", r.code, r.body)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		off, rdb := apiServer(t, "")
		r := post(t, off, `{"keys":["a"]}`, nil)
		if r.code != 403 || !strings.Contains(r.body, "API_TOKENS") {
			t.Errorf("%d %s, want 403 naming API_TOKENS", r.code, r.body)
		}
		if n := queued(t, rdb); n != 0 {
			t.Errorf("%d tasks queued", n)
		}
	})
}

// TestAPIInvalidate: 202 with a task id; the same selectors again join the
// pending task; GET /api/v1/tasks/{id} reads it; an unknown id is 404.
func TestAPIInvalidate(t *testing.T) {
	ts, rdb := apiServer(t, "pos:"+testToken)
	var a, b taskAnswer
	r := post(t, ts, `{"keys":["productos:1","productos:2"],"patterns":["dashboard:*"]}`, nil)
	if r.code != 202 || json.Unmarshal([]byte(r.body), &a) != nil || a.TaskID == "" || a.Coalesced {
		t.Fatalf("%d %s; want 202 with a task id", r.code, r.body)
	}
	r = post(t, ts, `{"keys":["productos:2","productos:1"],"patterns":["dashboard:*"]}`, func(r *http.Request) {
		r.Header.Set("Content-Type", "application/json; charset=utf-8")
	})
	if r.code != 202 || json.Unmarshal([]byte(r.body), &b) != nil || b.TaskID != a.TaskID || !b.Coalesced {
		t.Fatalf("%d %s; want 202 joining %s", r.code, r.body, a.TaskID)
	}
	if n := queued(t, rdb); n != 1 {
		t.Errorf("%d tasks queued, want 1", n)
	}
	auth := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testToken) }
	g := do(t, "GET", ts.URL+APIPrefix+"/tasks/"+a.TaskID, auth)
	if g.code != 200 || !strings.Contains(g.body, `"state":"pending"`) {
		t.Errorf("GET task = %d %s, want 200 pending", g.code, g.body)
	}
	if g := do(t, "GET", ts.URL+APIPrefix+"/tasks/cache:invalidate:nope:0", auth); g.code != 404 {
		t.Errorf("GET unknown task = %d %s, want 404", g.code, g.body)
	}
}

// TestAPIWait runs a worker that invalidates (cache.Invalidate, its result
// stored as the worker's adapter does): "wait": true answers 200 with the
// result, and the keys are gone.
func TestAPIWait(t *testing.T) {
	ts, rdb := apiServer(t, "pos:"+testToken)
	ks := cache.Keyspace{Prefix: "pos", Version: 1}
	ctx := context.Background()
	rdb.Set(ctx, ks.Key("productos:1"), "v", 0)
	rdb.Set(ctx, ks.Key("productos:2"), "v", 0)
	rdb.Set(ctx, ks.Key("dashboard:1"), "v", 0)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 1, Queues: tasks.FastQueues(), LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeCacheInvalidate, func(ctx context.Context, t *asynq.Task) error {
		a, err := tasks.Decode[tasks.CacheInvalidate](t)
		if err != nil {
			return err
		}
		res, err := cache.Invalidate(ctx, rdb, ks, a.Request(), cache.Options{SharedWithQueue: true})
		if err != nil {
			return err
		}
		b, _ := json.Marshal(res)
		_, err = t.ResultWriter().Write(b)
		return err
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	// asynq's processor looks for work every second when idle: a first
	// call may answer 202; the task id then serves to wait on.
	var ans taskAnswer
	r := post(t, ts, `{"patterns":["productos:*"],"wait":true}`, nil)
	if json.Unmarshal([]byte(r.body), &ans) != nil || (r.code != 200 && r.code != 202) {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if r.code == 202 {
		testenv.Eventually(t, 30*time.Second, "the task did not complete", func() bool {
			g := do(t, "GET", ts.URL+APIPrefix+"/tasks/"+ans.TaskID, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testToken) })
			return json.Unmarshal([]byte(g.body), &ans) == nil && ans.State == "completed"
		})
		// The worker is warm now: wait mode answers within its 2 s.
		rdb.Set(ctx, ks.Key("productos:3"), "v", 0)
		r = post(t, ts, `{"patterns":["productos:*"],"wait":true}`, nil)
		if json.Unmarshal([]byte(r.body), &ans) != nil || r.code != 200 {
			t.Fatalf("warm worker: %d %s, want 200", r.code, r.body)
		}
	}
	var res cache.Result
	if ans.State != "completed" || json.Unmarshal(ans.Result, &res) != nil || res.Deleted == 0 ||
		!slices.Equal([]string{res.Selectors[0].Kind, res.Selectors[0].Selector}, []string{"pattern", "productos:*"}) {
		t.Errorf("answer %+v (result %s), want completed with productos:* deleted", ans, ans.Result)
	}
	left, _ := rdb.Keys(ctx, "pos:1:*").Result()
	if !slices.Equal(left, []string{ks.Key("dashboard:1")}) {
		t.Errorf("keys left %q, want only dashboard:1", left)
	}
}

// TestOpenAPI: the document is served without a token, parses as OpenAPI
// 3 and lists both API paths.
func TestOpenAPI(t *testing.T) {
	ts, _ := apiServer(t, "")
	r := do(t, "GET", ts.URL+OpenAPIPath, nil)
	if r.code != 200 || !strings.HasPrefix(r.hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s = %d %s", OpenAPIPath, r.code, r.hdr.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(r.body)))
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q, want 3.x", doc.OpenAPI)
	}
	for path, m := range map[string]string{invalidatePath: "post", taskPath: "get"} {
		if _, ok := doc.Paths[path][m]; !ok {
			t.Errorf("the document lacks %s %s", m, path)
		}
	}
}
