// Package scheduler enqueues cantina-ops' periodic tasks (tasks.PeriodicTasks:
// health checks, backups, cleanups, restore drills) from their cron specs,
// in SCHEDULE_TZ.
//
// asynq has no leader election: two asynq.Scheduler processes both enqueue
// every tick, and Unique(ttl) does not stop a late second one because the
// lock is released when the task succeeds. So two mechanisms work together:
//
//  1. A leadership lease in Redis (SET NX with a TTL, renewed every TTL/3,
//     released on shutdown). Only the holder runs an asynq.Scheduler, so its
//     entries show in asynqmon's Schedulers tab; standbys try to take the
//     lease every TTL/3. With the default 30 s TTL a standby takes over
//     within 40 s of a leader's death, at once after a clean stop. A leader
//     that cannot renew steps down before its lease can expire.
//  2. Per-slot task IDs. Each entry is registered for its next slot only,
//     with asynq.TaskID("<type>@<slot time, UTC>"); when it fires it is
//     re-registered for the following slot. Any second enqueue of the same
//     slot (an old leader waking from a pause, the catch-up below) gets
//     asynq.ErrTaskIDConflict and is dropped. This holds while the first
//     task is still stored, so periodic tasks carry a Retention longer than
//     the catch-up window.
//
// When a scheduler becomes leader it first enqueues, for each cron entry,
// the latest slot of the last CatchUp (5 min) if nobody did: a slot that fell
// in a failover or a restart is run late rather than skipped, and never
// twice. @every schedules have no fixed grid, count from when the leader
// started, and are not caught up; they exist for tests.
//
// Backups get a longer memory (missed.go): when a leader takes over, and
// every hour while it leads, it compares the newest good backup with
// BACKUP_SCHEDULE. If the latest backup slot within BACKUP_CATCHUP (12 h)
// has no backup started at or after it, it enqueues one catch-up backup
// for that slot, under the slot's own task ID, and logs why. A night
// without a scheduler (Redis down at 02:00, a deploy across the slot) is
// then made up in the morning; the normal slot and its catch-up share an
// ID, so they never both run.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/robfig/cron/v3"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/tasks"
)

// Entry is one periodic task.
type Entry struct {
	Spec string
	Task *asynq.Task
}

// Entries returns the periodic tasks of cfg (tasks.PeriodicTasks), built
// with cfg's task limits.
func Entries(cfg *config.Config) ([]Entry, error) {
	var out []Entry
	for _, p := range tasks.PeriodicTasks(cfg) {
		t, err := tasks.New(p.Args, tasks.LimitsOf(cfg))
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Spec: p.Spec, Task: t})
	}
	return out, nil
}

// Options tune leadership; the zero value gives the production defaults.
type Options struct {
	LeaseKey   string        // default tasks.SchedulerLeaseKey
	LeaseTTL   time.Duration // default 30s
	CatchUp    time.Duration // default 5m
	InstanceID string        // default host-pid-nanotime

	// Backups, when set, turns the backup catch-up on (see missed.go).
	Backups LatestBackup
	// BackupCatchUp is how old a missed backup slot may be and still be
	// made up (BACKUP_CATCHUP); default 12h.
	BackupCatchUp time.Duration
	// BackupCheckEvery is how often a leader looks for a missed backup
	// slot; default 1h.
	BackupCheckEvery time.Duration
	// Now is the clock of catch-up decisions; default time.Now. The
	// asynq.Scheduler fires slots on the real clock regardless.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.LeaseKey == "" {
		o.LeaseKey = tasks.SchedulerLeaseKey
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.CatchUp <= 0 {
		o.CatchUp = 5 * time.Minute
	}
	if o.BackupCatchUp <= 0 {
		o.BackupCatchUp = 12 * time.Hour
	}
	if o.BackupCheckEvery <= 0 {
		o.BackupCheckEvery = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.InstanceID == "" {
		host, _ := os.Hostname()
		o.InstanceID = host + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return o
}

// Scheduler is one scheduler process: a standby until it holds the lease.
type Scheduler struct {
	rdb     redis.UniversalClient
	connOpt asynq.RedisConnOpt
	client  *asynq.Client
	loc     *time.Location
	entries []entry
	opts    Options
	log     *slog.Logger
}

type entry struct {
	spec  string
	sched cron.Schedule
	task  *asynq.Task
}

// New validates the entries. rdb is used for the lease and catch-up
// enqueues; connOpt gives each leadership term's asynq.Scheduler its own
// connection, which it closes on shutdown.
func New(rdb redis.UniversalClient, connOpt asynq.RedisConnOpt, loc *time.Location, entries []Entry, opts Options, log *slog.Logger) (*Scheduler, error) {
	s := &Scheduler{
		rdb: rdb, connOpt: connOpt, client: asynq.NewClientFromRedisClient(rdb),
		loc: loc, opts: opts.withDefaults(),
	}
	s.log = log.With("process", "scheduler", "instance", s.opts.InstanceID)
	for _, e := range entries {
		sched, err := config.ParseSchedule(e.Spec)
		if err != nil {
			return nil, fmt.Errorf("schedule %s %q: %w", e.Task.Type(), e.Spec, err)
		}
		s.entries = append(s.entries, entry{spec: e.Spec, sched: sched, task: e.Task})
	}
	return s, nil
}

// Run competes for leadership until ctx is done, leading whenever it holds
// the lease.
func (s *Scheduler) Run(ctx context.Context) error {
	l := &lease{rdb: s.rdb, key: s.opts.LeaseKey, id: s.opts.InstanceID, ttl: s.opts.LeaseTTL}
	poll := s.opts.LeaseTTL / 3
	s.log.Info("scheduler started", "entries", len(s.entries), "tz", s.loc.String())
	for {
		ok, err := l.acquire(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("scheduler lease: redis unreachable, retrying", "err", err, "retry_in", poll)
		case ok:
			if err := s.lead(ctx, l); err != nil {
				s.log.Error("scheduler leadership ended with an error", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			s.log.Info("scheduler stopped")
			return nil
		case <-time.After(poll):
		}
	}
}

// lead runs one leadership term: catch up, run an asynq.Scheduler, renew
// the lease; it returns when ctx is done or the lease is lost.
func (s *Scheduler) lead(ctx context.Context, l *lease) error {
	s.log.Info("became scheduler leader")
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := l.release(rctx); err != nil {
			s.log.Warn("release scheduler lease", "err", err)
		}
	}()

	s.catchUp(ctx)
	stopWatch := s.watchBackups(ctx)
	defer stopWatch()

	t := &term{s: s, pending: map[string]*registration{}}
	t.as = asynq.NewScheduler(s.connOpt, &asynq.SchedulerOpts{
		Location:        s.loc,
		Logger:          logging.AsynqLogger{L: s.log},
		PreEnqueueFunc:  t.fired,
		PostEnqueueFunc: t.enqueued,
	})
	now := time.Now()
	for _, e := range s.entries {
		if err := t.register(e, nextSlot(e.sched, s.loc, now)); err != nil {
			return err
		}
	}
	if err := t.as.Start(); err != nil {
		return fmt.Errorf("start asynq scheduler: %w", err)
	}
	defer t.as.Shutdown()

	renewEvery := s.opts.LeaseTTL / 3
	ticker := time.NewTicker(renewEvery)
	defer ticker.Stop()
	lastRenewed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			ok, err := l.renew(ctx)
			switch {
			case err != nil && ctx.Err() != nil:
				return nil
			case err != nil:
				// Step down before the lease can expire and a standby lead too.
				if time.Since(lastRenewed) >= s.opts.LeaseTTL-renewEvery {
					return fmt.Errorf("renew scheduler lease, stepping down: %w", err)
				}
				s.log.Warn("renew scheduler lease", "err", err)
			case !ok:
				s.log.Warn("scheduler lease taken by another instance, stepping down")
				return nil
			default:
				lastRenewed = time.Now()
			}
		}
	}
}

// catchUp enqueues the latest slot of each entry within the catch-up window
// unless it is already enqueued.
func (s *Scheduler) catchUp(ctx context.Context) {
	now := s.opts.Now()
	for _, e := range s.entries {
		slot, ok := lastSlot(e.sched, s.loc, now, s.opts.CatchUp)
		if !ok {
			continue
		}
		id := slotID(e.task.Type(), slot)
		_, err := s.client.EnqueueContext(ctx, e.task, asynq.TaskID(id))
		switch {
		case err == nil:
			s.log.Info("caught up a missed slot", "task", e.task.Type(), "task_id", id)
		case errors.Is(err, asynq.ErrTaskIDConflict):
			s.log.Debug("slot already enqueued", "task", e.task.Type(), "task_id", id)
		default:
			s.log.Error("catch-up enqueue failed", "task", e.task.Type(), "task_id", id, "err", err)
		}
	}
}

// term is one leadership term's asynq.Scheduler and its registrations,
// indexed by the slot task ID each is registered with.
type term struct {
	s       *Scheduler
	as      *asynq.Scheduler
	mu      sync.Mutex
	pending map[string]*registration
}

type registration struct {
	e       entry
	slot    time.Time
	entryID string
}

// register registers e with asynq for one slot.
func (t *term) register(e entry, slot time.Time) error {
	id := slotID(e.task.Type(), slot)
	r := &registration{e: e, slot: slot}
	t.mu.Lock()
	t.pending[id] = r
	t.mu.Unlock()
	entryID, err := t.as.Register(e.spec, e.task, asynq.TaskID(id))
	if err != nil {
		return fmt.Errorf("register %s %q: %w", e.task.Type(), e.spec, err)
	}
	t.mu.Lock()
	r.entryID = entryID
	t.mu.Unlock()
	return nil
}

// fired runs just before asynq enqueues a registration: it swaps the
// registration for one of the following slot.
func (t *term) fired(_ *asynq.Task, opts []asynq.Option) {
	id := taskID(opts)
	t.mu.Lock()
	r, ok := t.pending[id]
	delete(t.pending, id)
	t.mu.Unlock()
	if !ok {
		return
	}
	if err := t.as.Unregister(r.entryID); err != nil {
		t.s.log.Warn("unregister fired slot", "task_id", id, "err", err)
	}
	if err := t.register(r.e, nextSlot(r.e.sched, t.s.loc, r.slot)); err != nil {
		t.s.log.Error("register next slot", "task", r.e.task.Type(), "err", err)
	}
}

// enqueued logs the outcome of asynq's enqueue.
func (t *term) enqueued(info *asynq.TaskInfo, err error) {
	switch {
	case err == nil:
		t.s.log.Info("enqueued periodic task", "task", info.Type, "task_id", info.ID, "queue", info.Queue)
	case errors.Is(err, asynq.ErrTaskIDConflict):
		t.s.log.Info("slot already enqueued by another scheduler", "err", err)
	default:
		t.s.log.Error("enqueue periodic task", "err", err)
	}
}

func taskID(opts []asynq.Option) string {
	for _, o := range opts {
		if o.Type() == asynq.TaskIDOpt {
			if s, ok := o.Value().(string); ok {
				return s
			}
		}
	}
	return ""
}
