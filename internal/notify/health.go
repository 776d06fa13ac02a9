package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/health"
)

// HealthKeyPrefix prefixes the Redis key that holds a database's alert
// state (health.AlertState, JSON).
const HealthKeyPrefix = "cantina:health:alerts:"

// healthStateTTL forgets an alert state nobody has refreshed for a month
// (the checks stopped running); the next round then starts afresh.
const healthStateTTL = 30 * 24 * time.Hour

// HealthWatch keeps a database's per-check alert state in the queue Redis
// and emails the notices health.Step decides on: one email per round at
// most, listing every check that fires or recovered (see health/alert.go
// for the rules: firing, escalation, reminders, recovery, flapping). The
// health task and `health --notify` share it, so they see the same state.
type HealthWatch struct {
	Redis    redis.UniversalClient
	Notifier *Notifier // nil: keep the state, notify nobody
	Database string
	// Repeat is HEALTH_ALERT_REPEAT: how often a reminder comes while a
	// check fires; 0 sends none.
	Repeat time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Notice is what one observation queued. Kind is "" when nobody was
// notified.
type Notice struct {
	Kind Kind
	// Key identifies the notice in the email task IDs.
	Key string
	// Alerts are the checks the notice lists.
	Alerts []health.Alert
}

// Observe steps the alert state with rep, queues the notice that is due,
// and only then stores the new state: a crash in between makes the next
// observation start from the same state, whose notice number gives the
// same email task IDs, so the email is queued once. With nothing stored
// (or something unreadable), every check starts as not firing.
func (w *HealthWatch) Observe(ctx context.Context, rep health.Report) (Notice, error) {
	key := HealthKeyPrefix + w.Database
	// One observer at a time (the hourly task, `health --notify`, an
	// operator's "Run"): read, step and store must not interleave.
	unlock, err := w.lock(ctx, key+":lock")
	if err != nil {
		return Notice{}, err
	}
	defer unlock()
	var prev health.AlertState
	raw, err := w.Redis.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return Notice{}, fmt.Errorf("read health alert state: %w", err)
	default:
		// An unreadable state is replaced below by a fresh one.
		if json.Unmarshal(raw, &prev) != nil {
			prev = health.AlertState{}
		}
	}

	if prev.Epoch == "" {
		prev.Epoch = newEpoch()
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	next, alerts := health.Step(prev, rep, now().UTC(), w.Repeat)
	next.Epoch = prev.Epoch
	var n Notice
	if len(alerts) > 0 {
		n = Notice{Kind: noticeKind(alerts), Key: w.Database + ":" + prev.Epoch + ":" + strconv.FormatInt(prev.Seq, 10), Alerts: alerts}
		d := Data{Database: w.Database, Time: rep.Time, Health: w.notice(alerts)}
		if err := w.Notifier.sendHealth(ctx, n.Kind, n.Key, d); err != nil {
			return n, fmt.Errorf("notify health %s: %w", n.Kind, err)
		}
	}

	b, err := json.Marshal(next)
	if err != nil {
		return n, fmt.Errorf("encode health alert state: %w", err)
	}
	if err := w.Redis.Set(ctx, key, b, healthStateTTL).Err(); err != nil {
		return n, fmt.Errorf("store health alert state: %w", err)
	}
	return n, nil
}

// lockTTL bounds how long a crashed observer's lock blocks the others.
const lockTTL = 30 * time.Second

// lock takes the alert state's lock, waiting for another observer to
// finish (polling, up to the context's end or lockTTL).
func (w *HealthWatch) lock(ctx context.Context, key string) (func(), error) {
	token := newEpoch()
	deadline := time.Now().Add(lockTTL)
	for {
		ok, err := w.Redis.SetNX(ctx, key, token, lockTTL).Result()
		if err != nil {
			return nil, fmt.Errorf("lock health alert state: %w", err)
		}
		if ok {
			return func() {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				defer cancel()
				// Only our own lock: it may have expired and been taken.
				_ = w.Redis.Eval(rctx, `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`, []string{key}, token).Err()
			}, nil
		}
		if time.Now().After(deadline) {
			return nil, errors.New("lock health alert state: another observer holds it")
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock health alert state: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// newEpoch is a random identifier (alert state epochs, lock tokens).
func newEpoch() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// noticeKind names a notice by its worst news: a check newly failing (or
// worse), else newly degraded, else a recovery, else a reminder.
func noticeKind(alerts []health.Alert) Kind {
	kind := KindHealthReminder
	for _, a := range alerts {
		switch a.Change {
		case health.Firing, health.Worse:
			if a.Status == health.Fail {
				return KindHealthFailed
			}
			kind = KindHealthDegraded
		case health.Resolved:
			if kind == KindHealthReminder {
				kind = KindHealthRecovered
			}
		}
	}
	return kind
}

// notice is the email's view of alerts.
func (w *HealthWatch) notice(alerts []health.Alert) *Health {
	h := &Health{Status: health.Pass, Repeat: w.Repeat}
	for _, a := range alerts {
		c := Check{Name: a.Check, Status: a.Status, Output: a.Result.Output, Change: a.Change, Was: a.Was, Since: a.Since, Gone: a.Gone,
			Value: health.FormatValue(a.Result.ObservedValue, a.Result.ObservedUnit)}
		if a.Change == health.Resolved {
			h.Recovered = append(h.Recovered, c)
			continue
		}
		if a.Status.Severity() > h.Status.Severity() {
			h.Status = a.Status
		}
		h.Checks = append(h.Checks, c)
	}
	return h
}
