package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// TestDefaultTakeoverWithinAMinute: a standby notices a dead leader at the
// latest one poll (TTL/3) after the lease expires (TTL).
func TestDefaultTakeoverWithinAMinute(t *testing.T) {
	o := Options{}.withDefaults()
	if worst := o.LeaseTTL + o.LeaseTTL/3; worst > time.Minute {
		t.Errorf("worst-case takeover %s exceeds one minute", worst)
	}
}

type harness struct {
	t     *testing.T
	redis testenv.RedisDB
	insp  *asynq.Inspector
	logs  *testenv.SyncBuffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	r := testenv.Redis(t)
	insp := asynq.NewInspectorFromRedisClient(r.Client(t))
	return &harness{t: t, redis: r, insp: insp, logs: &testenv.SyncBuffer{}}
}

// start runs a scheduler with a one-second health:check entry until the
// returned stop function is called (or the test ends).
func (h *harness) start(id string, opts Options) (stop func()) {
	h.t.Helper()
	task, err := tasks.New(tasks.HealthCheck{}, tasks.Limits{})
	if err != nil {
		h.t.Fatal(err)
	}
	return h.startWith(id, []Entry{{Spec: "@every 1s", Task: task}}, opts)
}

// startWith runs a scheduler with the given entries until the returned
// stop function is called (or the test ends).
func (h *harness) startWith(id string, entries []Entry, opts Options) (stop func()) {
	h.t.Helper()
	opts.InstanceID = id
	if opts.LeaseTTL == 0 {
		opts.LeaseTTL = 3 * time.Second
	}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(h.redis.Client(h.t), asynq.RedisClientOpt{Addr: h.redis.Addr, DB: h.redis.DB},
		time.UTC, entries, opts, log)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			h.t.Errorf("scheduler %s: %v", id, err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	h.t.Cleanup(stop)
	return stop
}

// slots returns the slot times of every health:check task in Redis, and
// fails the test if two tasks share a slot.
func (h *harness) slots() map[time.Time]string {
	h.t.Helper()
	pending, err := h.insp.ListPendingTasks(tasks.QueueDefault, asynq.PageSize(10000))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil // nothing enqueued yet
	}
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[time.Time]string{}
	for _, ti := range pending {
		at, ok := strings.CutPrefix(ti.ID, tasks.TypeHealthCheck+"@")
		if !ok || ti.Type != tasks.TypeHealthCheck {
			h.t.Fatalf("unexpected task %s of type %s", ti.ID, ti.Type)
		}
		slot, err := time.Parse(time.RFC3339, at)
		if err != nil {
			h.t.Fatalf("task ID %q has no slot time: %v", ti.ID, err)
		}
		if prev, dup := out[slot]; dup {
			h.t.Fatalf("two tasks for slot %s: %s and %s", slot, prev, ti.ID)
		}
		out[slot] = ti.ID
	}
	return out
}

// lastEnqueuedBy returns the latest slot that scheduler id's log says it
// enqueued.
func (h *harness) lastEnqueuedBy(id string) time.Time {
	h.t.Helper()
	re := regexp.MustCompile(`msg="enqueued periodic task" process=scheduler instance=` + regexp.QuoteMeta(id) +
		` task=\S+ task_id=` + regexp.QuoteMeta(tasks.TypeHealthCheck) + `@(\S+)`)
	var last time.Time
	for _, m := range re.FindAllStringSubmatch(h.logs.String(), -1) {
		if s, err := time.Parse(time.RFC3339, m[1]); err == nil && s.After(last) {
			last = s
		}
	}
	if last.IsZero() {
		h.t.Fatalf("no slot enqueued by %s in the log:\n%s", id, h.logs.String())
	}
	return last
}

func (h *harness) leader() string {
	v, _ := h.redis.Client(h.t).Get(context.Background(), "cantina:scheduler:leader").Result()
	return v
}

// checkContiguous fails unless slots holds every second from first to last.
func checkContiguous(t *testing.T, slots map[time.Time]string, from, to time.Time) {
	t.Helper()
	for s := from; !s.After(to); s = s.Add(time.Second) {
		if _, ok := slots[s]; !ok {
			t.Errorf("slot %s has no task", s.Format(time.RFC3339))
		}
	}
}

func bounds(slots map[time.Time]string) (first, last time.Time) {
	for s := range slots {
		if first.IsZero() || s.Before(first) {
			first = s
		}
		if s.After(last) {
			last = s
		}
	}
	return first, last
}

func TestTwoSchedulersOneTaskPerSlotAndFailover(t *testing.T) {
	h := newHarness(t)
	stops := map[string]func(){"a": h.start("a", Options{}), "b": h.start("b", Options{})}

	testenv.Eventually(t, 60*time.Second, "10 slots enqueued", func() bool { return len(h.slots()) >= 10 })
	leader := h.leader()
	stopLeader, ok := stops[leader]
	if !ok {
		t.Fatalf("lease held by %q, not by one of the schedulers", leader)
	}
	before := h.slots()
	first, last := bounds(before)
	if n := len(before); n != int(last.Sub(first)/time.Second)+1 {
		t.Errorf("%d tasks for %d slots between %s and %s", n, int(last.Sub(first)/time.Second)+1, first, last)
	}
	checkContiguous(t, before, first, last)

	stopLeader()
	// The leader may have enqueued more slots since the snapshot, up to its
	// stop: its log says which was its last.
	last = h.lastEnqueuedBy(leader)
	checkContiguous(t, h.slots(), first, last)
	standby := map[string]string{"a": "b", "b": "a"}[leader]
	testenv.Eventually(t, 30*time.Second, "standby holds the lease", func() bool { return h.leader() == standby })
	testenv.Eventually(t, 30*time.Second, "standby enqueues 3 new slots", func() bool {
		_, newest := bounds(h.slots())
		return newest.Sub(last) >= 3*time.Second
	})
	after := h.slots() // fails on a duplicate slot
	_, newest := bounds(after)
	// The standby leads from the slot after it took the lease on; from then
	// on every slot has its task.
	var resumed time.Time
	for s := last.Add(time.Second); !s.After(newest); s = s.Add(time.Second) {
		if _, ok := after[s]; ok && resumed.IsZero() {
			resumed = s
		}
	}
	checkContiguous(t, after, resumed, newest)
	if !strings.Contains(h.logs.String(), "instance="+standby) || !strings.Contains(h.logs.String(), "became scheduler leader") {
		t.Errorf("no leadership log from the standby:\n%s", h.logs.String())
	}
}

// TestOverlappingLeadersEnqueueOnce runs two leaders at once (two lease
// keys), the case a paused leader waking up after losing its lease creates:
// per-slot task IDs still leave one task per slot.
func TestOverlappingLeadersEnqueueOnce(t *testing.T) {
	h := newHarness(t)
	h.start("a", Options{LeaseKey: "lease-a"})
	h.start("b", Options{LeaseKey: "lease-b"})
	testenv.Eventually(t, 60*time.Second, "6 slots enqueued", func() bool { return len(h.slots()) >= 6 })
	slots := h.slots()
	first, last := bounds(slots)
	checkContiguous(t, slots, first, last)
	if n := strings.Count(h.logs.String(), "slot already enqueued by another scheduler"); n == 0 {
		t.Errorf("both leaders ran but no enqueue was refused as a duplicate; logs:\n%s", h.logs.String())
	}
}

// TestTakesOverFromDeadLeader: a lease left by a leader that died (never
// renewed, never released) expires and the standby takes over.
func TestTakesOverFromDeadLeader(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	// Long enough to be still there after a stall of the test machine.
	if err := h.redis.Client(t).Set(ctx, "cantina:scheduler:leader", "dead-instance", 6*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	h.start("standby", Options{})
	if got := h.leader(); got != "dead-instance" {
		t.Fatalf("lease holder = %q, want the dead instance still", got)
	}
	testenv.Eventually(t, 30*time.Second, "standby takes the lease", func() bool { return h.leader() == "standby" })
	testenv.Eventually(t, 30*time.Second, "standby enqueues", func() bool { return len(h.slots()) >= 2 })
}

// TestEntriesVisibleInConsole: the leader's entries are what asynqmon's
// Schedulers tab lists.
func TestEntriesVisibleInConsole(t *testing.T) {
	h := newHarness(t)
	h.start("a", Options{})
	var entries []*asynq.SchedulerEntry
	testenv.Eventually(t, 30*time.Second, "scheduler entries in redis", func() bool {
		var err error
		entries, err = h.insp.SchedulerEntries()
		return err == nil && len(entries) > 0
	})
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want 1", len(entries))
	}
	e := entries[0]
	if e.Spec != "@every 1s" || e.Task.Type() != tasks.TypeHealthCheck {
		t.Errorf("entry = %s %s, want @every 1s health:check", e.Spec, e.Task.Type())
	}
}
