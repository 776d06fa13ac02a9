package cache

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// plant sets each key (a real key) with a value.
func plant(t *testing.T, rdb redis.Cmdable, keys ...string) {
	t.Helper()
	pipe := rdb.Pipeline()
	for _, k := range keys {
		pipe.Set(context.Background(), k, "v", 0)
	}
	if _, err := pipe.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// allKeys lists every key of the database.
func allKeys(t *testing.T, rdb *redis.Client) []string {
	t.Helper()
	var out []string
	iter := rdb.Scan(context.Background(), 0, "*", 1000).Iterator()
	for iter.Next(context.Background()) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestInvalidate(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t).Client(t)
	ks := Keyspace{Prefix: "pos", Version: 2}
	var productos []string
	for i := range 2500 { // more than two SCAN batches
		productos = append(productos, ks.Key(fmt.Sprintf("productos:%d", i)))
	}
	plant(t, rdb, productos...)
	keep := []string{ks.Key("productosx"), ks.Key("dashboard:b"), ks.Key("categoria:6:lista"), "productos:1", ":1:productos:1", "pos:1:productos:1", "raw:key"}
	plant(t, rdb, keep...)
	plant(t, rdb, ks.Key("dashboard:a"), ks.Key("categoria:5:lista"), ks.Key("categoria:5:top"), "raw:gone")
	rdb.SAdd(ctx, ks.TagSet("categoria:5"), ks.Key("categoria:5:lista"), ks.Key("categoria:5:top"), ks.Key("categoria:5:expired"))
	rdb.SAdd(ctx, ks.TagSet("categoria:6"), ks.Key("categoria:6:lista"))
	keep = append(keep, ks.TagSet("categoria:6"))

	r := Request{Keys: []string{"dashboard:a", "missing"}, Patterns: []string{"productos:*"}, Tags: []string{"categoria:5", "nadie"}}
	if err := r.Validate(ks, false); err != nil {
		t.Fatal(err)
	}
	res, err := Invalidate(ctx, rdb, ks, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []SelectorResult{
		{Kind: KindKey, Selector: "dashboard:a", Deleted: 1},
		{Kind: KindKey, Selector: "missing"},
		{Kind: KindPattern, Selector: "productos:*", Deleted: 2500},
		{Kind: KindTag, Selector: "categoria:5", Deleted: 2},
		{Kind: KindTag, Selector: "nadie"},
	}
	if !slices.Equal(res.Selectors, want) || res.Deleted != 2503 {
		t.Errorf("result %+v, want %+v and 2503 deleted", res, want)
	}
	raw := Request{Raw: true, Keys: []string{"raw:gone"}}
	if _, err := Invalidate(ctx, rdb, ks, raw, Options{}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keep)
	if got := allKeys(t, rdb); !slices.Equal(got, keep) {
		t.Errorf("keys left: %q, want %q", got, keep)
	}
	// Idempotent: a second run deletes nothing more and fails nothing.
	again, err := Invalidate(ctx, rdb, ks, r, Options{})
	if err != nil || again.Deleted != 0 {
		t.Errorf("second run: %+v, %v; want nothing deleted", again, err)
	}
	if got := allKeys(t, rdb); !slices.Equal(got, keep) {
		t.Errorf("keys left after the second run: %q, want %q", got, keep)
	}
}

// TestQueueSurvivesEveryAcceptedPattern shares one Redis database between
// the queue (a running asynq worker with an active task, pending and
// scheduled tasks, cantina-ops' own keys) and the cache, invalidates with
// every candidate pattern that Validate accepts, raw and logical, and
// checks that every queue key is still there and the worker finishes its
// task.
func TestQueueSurvivesEveryAcceptedPattern(t *testing.T) {
	ctx := context.Background()
	db := testenv.Redis(t)
	rdb := db.Client(t)
	ks := Keyspace{Version: 1}

	started, release := make(chan struct{}), make(chan struct{})
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 1, Queues: map[string]int{"default": 1},
		LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("test:block", func(ctx context.Context, _ *asynq.Task) error {
		close(started)
		<-release
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	client := asynq.NewClientFromRedisClient(rdb)
	active, err := client.Enqueue(asynq.NewTask("test:block", nil), asynq.Retention(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	<-started
	for i := range 3 {
		if _, err := client.Enqueue(asynq.NewTask("test:other", []byte{byte(i)}), asynq.Queue("unserved")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Enqueue(asynq.NewTask("test:later", nil), asynq.ProcessIn(time.Hour)); err != nil {
		t.Fatal(err)
	}
	plant(t, rdb, "cantina:scheduler:leader", "cantina:health:round:x")
	queueKeys := allKeys(t, rdb)

	candidates := []string{"*", "?*", "**", "a*", "as*", "asy*", "asynq*", "asynq:*", "asynq:{default}:*", "[a-z]*", "[^b]*",
		"?s*", "c*", "ca*", "cantina:*", "cantina:scheduler:leader", "asynq:queues", "*q*", "*:*", ":*", ":1:*",
		":1:p*", "p*", "productos:*", "b*", "[b-z]*", "x?*", "sess*", "asynq", "asynq-*"}
	var accepted int
	for _, raw := range []bool{false, true} {
		var cached []string
		for _, p := range []string{"productos:1", "p1", "b1", "x11", "sess1", "asynq", "asynq-1", "asynq:queues", "cantina:scheduler:leader"} {
			cached = append(cached, Request{Raw: raw}.RealKey(ks, p))
		}
		for _, p := range candidates {
			r := Request{Raw: raw, Patterns: []string{p}}
			if r.Validate(ks, true) != nil {
				continue
			}
			accepted++
			for _, k := range cached {
				if !queueKey(k) {
					plant(t, rdb, k)
				}
			}
			res, err := Invalidate(ctx, rdb, ks, r, Options{SharedWithQueue: true})
			if err != nil {
				t.Fatalf("raw=%v %q: %v", raw, p, err)
			}
			t.Logf("raw=%v %q accepted, deleted %d", raw, p, res.Deleted)
		}
	}
	if accepted < 10 {
		t.Fatalf("only %d candidate patterns accepted: the test shows little", accepted)
	}
	for _, k := range queueKeys {
		if n, err := rdb.Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Errorf("queue key %q is gone (%d, %v)", k, n, err)
		}
	}
	close(release)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	testenv.Eventually(t, 30*time.Second, "the worker's task did not complete", func() bool {
		info, err := insp.GetTaskInfo("default", active.ID)
		return err == nil && info.State == asynq.TaskStateCompleted
	})
}
