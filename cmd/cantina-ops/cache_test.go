package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/cantina-pos/cantina-ops/worker"
)

// TestCacheInvalidateCommand: the command queues through the API's client
// (joining a pending task, refusing "*" with exit status 2 and nothing
// queued), and with --wait a real worker runs the task and the command
// prints what it deleted.
func TestCacheInvalidateCommand(t *testing.T) {
	db := testenv.Redis(t)
	t.Setenv("REDIS_URL", db.URL())
	t.Setenv("DATABASE_URL", "mysql://pos:unused-pw@127.0.0.1:1/pos")
	t.Setenv("CACHE_KEY_PREFIX", "pos")
	rdb := db.Client(t)
	ctx := context.Background()
	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		a := &app{stdout: &stdout, stderr: &stderr}
		code := exitCode(&stderr, dispatch(ctx, a, append([]string{"cache", "invalidate"}, args...)))
		return code, stdout.String() + stderr.String()
	}
	if code, out := run("--pattern", "dashboard:*", "--key", "a", "--key", "b"); code != 0 || !strings.Contains(out, "queued cache invalidation task") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if code, out := run("--key", "b", "--pattern", "dashboard:*", "--key", "a"); code != 0 || !strings.Contains(out, "joined the pending") {
		t.Fatalf("same selectors again: exit %d: %s", code, out)
	}
	if code, out := run("--pattern", "*"); code != 2 || !strings.Contains(out, "whole cache") {
		t.Fatalf("--pattern '*': exit %d: %s", code, out)
	}
	if code, out := run(); code != 2 || !strings.Contains(out, "nothing to invalidate") {
		t.Fatalf("no selector: exit %d: %s", code, out)
	}
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(tasks.QueueCache)
	if err != nil || info.Size != 1 {
		t.Fatalf("queue: %+v %v; want the one task", info, err)
	}

	rdb.Set(ctx, "pos:1:productos:1", "v", 0)
	rdb.Set(ctx, "pos:1:productos:2", "v", 0)
	rdb.Set(ctx, "pos:1:otros:1", "v", 0)
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"REDIS_URL": db.URL(), "DATABASE_URL": "mysql://pos:unused-pw@127.0.0.1:1/pos", "CACHE_KEY_PREFIX": "pos"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- worker.New(cfg, worker.Deps{Redis: rdb, Logger: logging.Discard()}).Run(wctx) }()
	t.Cleanup(func() { stop(); <-done })
	code, out := run("--pattern", "productos:*", "--raw=false", "--wait")
	if code != 0 || !strings.Contains(out, "pattern productos:*: 2 deleted") {
		t.Fatalf("--wait: exit %d: %s", code, out)
	}
	if n, _ := rdb.Exists(ctx, "pos:1:otros:1").Result(); n != 1 {
		t.Error("a key outside the pattern is gone")
	}
}
