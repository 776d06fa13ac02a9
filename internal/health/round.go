package health

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/logging"
)

// DefaultRoundKey is the queue Redis key holding the last round of the
// shared checks (its lock is the same key with ":lock" appended).
const DefaultRoundKey = "cantina:health:round"

// Round is one report as served: the report, its encoded document, and
// when this process stops serving it.
type Round struct {
	Report   Report
	Document []byte // EncodeDocument(Report, version)
	Expires  time.Time
}

// RoundsOptions configure Rounds. Zero values take the defaults.
type RoundsOptions struct {
	// TTL is how long a round is served (HEALTH_CACHE_TTL; default 10 s).
	TTL time.Duration
	// Redis, when set, shares rounds between processes (web replicas):
	// one of them runs the checks and stores the report for TTL. Nil keeps
	// the cache in this process.
	Redis redis.UniversalClient
	// Key is the Redis key of the shared report (default DefaultRoundKey);
	// the web process adds the database's name, so deployments sharing a
	// Redis never serve each other's rounds.
	Key string
	// Wait bounds how long a process waits for the round another one is
	// running before it runs its own; it is also the lock's lifetime, so
	// make it longer than a round can take (default 10 s).
	Wait time.Duration
	// Version goes into every document.
	Version string
	// Now is the clock of the cache's expiry (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Rounds runs a set of checks at most once per TTL however many callers
// ask: concurrent callers in this process share one round in flight, and
// processes sharing a Redis share one round through it. A Redis that fails
// never fails a caller: the process falls back to its own cache and logs it.
type Rounds struct {
	run     func(context.Context) Report
	ttl     time.Duration
	rdb     redis.UniversalClient
	key     string
	wait    time.Duration
	poll    time.Duration
	version string
	now     func() time.Time
	log     *slog.Logger

	cur      atomic.Pointer[Round]
	mu       sync.Mutex
	flight   *flight
	runs     atomic.Int64
	degraded atomic.Bool // sharing through Redis failed last time
	// onWait, when set (tests), is called when this process finds another
	// one running the round and starts waiting for its report.
	onWait func()
}

// flight is a round being fetched; done is closed when round is set.
type flight struct {
	done  chan struct{}
	round *Round
}

// NewRounds serves the reports of run (usually a Checker's Run).
func NewRounds(run func(context.Context) Report, o RoundsOptions) *Rounds {
	r := &Rounds{run: run, ttl: o.TTL, rdb: o.Redis, key: o.Key, wait: o.Wait, poll: 20 * time.Millisecond,
		version: o.Version, now: o.Now, log: o.Logger}
	if r.ttl <= 0 {
		r.ttl = 10 * time.Second
	}
	if r.key == "" {
		r.key = DefaultRoundKey
	}
	if r.wait <= 0 {
		r.wait = 10 * time.Second
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = logging.Discard()
	}
	return r
}

// TTL is how long a round is served.
func (r *Rounds) TTL() time.Duration { return r.ttl }

// Runs is how many rounds this process has run (rounds read from another
// process are not counted).
func (r *Rounds) Runs() int64 { return r.runs.Load() }

// Last is the newest round this process knows, run here or read from
// Redis, even if expired; false before the first.
func (r *Rounds) Last() (Report, bool) {
	c := r.cur.Load()
	if c == nil {
		return Report{}, false
	}
	return c.Report, true
}

// Get returns the current round, fetching a new one when it has expired.
// It fails only when ctx ends first; the round itself goes on for the
// other callers.
func (r *Rounds) Get(ctx context.Context) (*Round, error) {
	if c := r.fresh(); c != nil {
		return c, nil
	}
	r.mu.Lock()
	if c := r.fresh(); c != nil {
		r.mu.Unlock()
		return c, nil
	}
	f := r.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		r.flight = f
		go r.fill(f)
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.round, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the health checks: %w", ctx.Err())
	}
}

func (r *Rounds) fresh() *Round {
	if c := r.cur.Load(); c != nil && r.now().Before(c.Expires) {
		return c
	}
	return nil
}

// fill fetches a round for every caller waiting on f. It runs detached from
// any caller's context: each check has its own timeout.
func (r *Rounds) fill(f *flight) {
	round := r.fetch(context.Background())
	r.mu.Lock()
	r.cur.Store(round)
	r.flight = nil
	r.mu.Unlock()
	f.round = round
	close(f.done)
}

func (r *Rounds) fetch(ctx context.Context) *Round {
	if r.rdb == nil {
		return r.newRound(r.runChecks(ctx), r.ttl)
	}
	round, err := r.shared(ctx)
	if err == nil {
		if r.degraded.CompareAndSwap(true, false) {
			r.log.Info("health checks shared through the queue Redis again")
		}
		return round
	}
	if errors.Is(err, errWaitedTooLong) {
		r.log.Warn("health: another process's round did not arrive in time; running the checks here", "wait", r.wait.String())
	} else if r.degraded.CompareAndSwap(false, true) {
		r.log.Warn("health: rounds not shared through the queue Redis, cached in this process only until it answers", "err", err)
	}
	return r.newRound(r.runChecks(ctx), r.ttl)
}

var errWaitedTooLong = errors.New("waited too long for the shared health round")

// shared returns the round stored in Redis, or runs it under the lock and
// stores it, or waits for the process holding the lock to store it.
func (r *Rounds) shared(ctx context.Context) (*Round, error) {
	token := rand.Text()
	lock := r.key + ":lock"
	deadline := time.NewTimer(r.wait)
	defer deadline.Stop()
	waiting := false
	for {
		if round, err := r.stored(ctx); err != nil || round != nil {
			return round, err
		}
		won, err := r.rdb.SetNX(ctx, lock, token, r.wait).Result()
		if err != nil {
			return nil, fmt.Errorf("take the health round lock: %w", err)
		}
		if won {
			return r.runAndStore(ctx, lock, token), nil
		}
		if !waiting {
			waiting = true
			if r.onWait != nil {
				r.onWait()
			}
		}
		poll := time.NewTimer(r.poll)
		select {
		case <-deadline.C:
			poll.Stop()
			return nil, errWaitedTooLong
		case <-ctx.Done():
			poll.Stop()
			return nil, ctx.Err()
		case <-poll.C:
		}
	}
}

// stored is the round in Redis with its remaining lifetime, nil if none.
func (r *Rounds) stored(ctx context.Context) (*Round, error) {
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, r.key)
		ttl = p.PTTL(ctx, r.key)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the shared health round: %w", err)
	}
	var rep Report
	if err := json.Unmarshal([]byte(get.Val()), &rep); err != nil {
		return nil, fmt.Errorf("decode the shared health round: %w", err)
	}
	if ttl.Val() <= 0 {
		return nil, nil
	}
	return r.newRound(rep, ttl.Val()), nil
}

// runAndStore runs the checks while holding the lock, stores the report
// for TTL and releases the lock. A failure to store is logged: this
// process still has its round.
func (r *Rounds) runAndStore(ctx context.Context, lock, token string) *Round {
	rep := r.runChecks(ctx)
	b, err := json.Marshal(rep)
	if err == nil {
		err = r.rdb.Set(ctx, r.key, b, r.ttl).Err()
	}
	if err != nil && r.degraded.CompareAndSwap(false, true) {
		r.log.Warn("health: could not share the round through the queue Redis", "err", err)
	}
	if err := r.unlock(ctx, lock, token); err != nil {
		r.log.Debug("health: round lock not released; it expires by itself", "err", err)
	}
	return r.newRound(rep, r.ttl)
}

// unlock deletes the lock if this process still holds it.
func (r *Rounds) unlock(ctx context.Context, lock, token string) error {
	return r.rdb.Watch(ctx, func(tx *redis.Tx) error {
		v, err := tx.Get(ctx, lock).Result()
		if errors.Is(err, redis.Nil) || (err == nil && v != token) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, lock)
			return nil
		})
		return err
	}, lock)
}

// runChecks runs one round and counts it. Values JSON cannot carry are
// dropped so that the report can be stored and served.
func (r *Rounds) runChecks(ctx context.Context) Report {
	r.runs.Add(1)
	rep := r.run(ctx)
	for name, res := range rep.Checks {
		res.ObservedValue = finite(res.ObservedValue)
		rep.Checks[name] = res
	}
	return rep
}

// newRound encodes rep's document once, for every caller of the round.
func (r *Rounds) newRound(rep Report, ttl time.Duration) *Round {
	doc, err := EncodeDocument(rep, r.version)
	if err != nil {
		r.log.Error("health: report not encodable, serving its status only", "err", err)
		doc, _ = EncodeDocument(Report{Status: rep.Status}, r.version)
	}
	return &Round{Report: rep, Document: doc, Expires: r.now().Add(ttl)}
}
