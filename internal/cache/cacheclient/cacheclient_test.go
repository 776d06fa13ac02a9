package cacheclient

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

func newClient(t *testing.T) (*Client, testenv.RedisDB) {
	t.Helper()
	db := testenv.Redis(t)
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"REDIS_URL": db.URL(), "DATABASE_URL": "mysql://u:unused-pw@127.0.0.1:1/pos"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg, db.Client(t)), db
}

func pending(t *testing.T, insp *asynq.Inspector) int {
	t.Helper()
	queues, err := insp.Queues()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(queues, tasks.QueueCache) {
		return 0
	}
	info, err := insp.GetQueueInfo(tasks.QueueCache)
	if err != nil {
		t.Fatal(err)
	}
	return info.Pending
}

// TestEnqueueCoalesces: while no worker runs, the same selectors (in any
// order, with duplicates) make one task; a task that has started never
// absorbs a new request: a second task is queued, which later requests join
// while it waits; a finished task absorbs nothing either.
func TestEnqueueCoalesces(t *testing.T) {
	ctx := context.Background()
	c, db := newClient(t)
	rdb := db.Client(t)
	r1 := cache.Request{Keys: []string{"b", "a"}, Patterns: []string{"productos:*"}}
	r2 := cache.Request{Keys: []string{"a", "b", "a"}, Patterns: []string{"productos:*"}}

	id1, co, err := c.Enqueue(ctx, r1)
	if err != nil || co {
		t.Fatalf("first enqueue: %s %v %v", id1, co, err)
	}
	id2, co, err := c.Enqueue(ctx, r2)
	if err != nil || !co || id2 != id1 {
		t.Fatalf("second enqueue: %s coalesced=%v %v; want %s coalesced", id2, co, err, id1)
	}
	if other, co, err := c.Enqueue(ctx, cache.Request{Keys: []string{"a"}}); err != nil || co || other == id1 {
		t.Fatalf("other selectors: %s coalesced=%v %v; want a task of their own", other, co, err)
	}
	if n := pending(t, c.insp); n != 2 {
		t.Fatalf("%d tasks pending, want 2", n)
	}

	// A worker takes id1 and holds it.
	started, release := make(chan string, 4), make(chan struct{})
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Concurrency: 1, Queues: tasks.FastQueues(), LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeCacheInvalidate, func(ctx context.Context, _ *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		started <- id
		<-release
		return nil
	})
	// Only id1 must be picked: delete the other task first.
	if _, err := c.insp.DeleteAllPendingTasks(tasks.QueueCache); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Enqueue(ctx, r1); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	active := <-started
	id3, co, err := c.Enqueue(ctx, r2)
	if err != nil || co || id3 == active {
		t.Fatalf("enqueue while %s runs: %s coalesced=%v %v; want a new task", active, id3, co, err)
	}
	id4, co, err := c.Enqueue(ctx, r1)
	if err != nil || !co || id4 != id3 {
		t.Fatalf("enqueue while %s waits: %s coalesced=%v %v; want it joined", id3, id4, co, err)
	}
	close(release)
	testenv.Eventually(t, 30*time.Second, "the second task did not complete", func() bool {
		s, err := c.Status(ctx, id3)
		return err == nil && s.State == "completed"
	})
	id5, co, err := c.Enqueue(ctx, r1)
	if err != nil || co || id5 == id3 || id5 == active {
		t.Fatalf("enqueue after completion: %s coalesced=%v %v; want a new task", id5, co, err)
	}
}

func TestEnqueueRefusesInvalid(t *testing.T) {
	c, _ := newClient(t)
	_, _, err := c.Enqueue(context.Background(), cache.Request{Patterns: []string{"*"}})
	var re *cache.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("Enqueue(*) = %v, want a *cache.RequestError", err)
	}
	if n := pending(t, c.insp); n != 0 {
		t.Errorf("%d tasks pending after a refused request", n)
	}
	if _, err := c.Status(context.Background(), "cache:invalidate:nope:0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Status of an unknown id = %v, want ErrNotFound", err)
	}
}
