package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/health"
)

// HealthKeyPrefix prefixes the Redis key that holds a database's last
// overall health status.
const HealthKeyPrefix = "cantina:health:last:"

// healthStateTTL forgets a status nobody has refreshed for a month (the
// checks stopped running); the next check then starts from "pass".
const healthStateTTL = 30 * 24 * time.Hour

// HealthWatch remembers the last overall health status of a database in
// the queue Redis and notifies when it changes: pass→warn is "degraded",
// anything→fail is "failed", warn or fail→pass is "recovered". The health
// task and `health --notify` share it, so they see the same history.
type HealthWatch struct {
	Redis    redis.UniversalClient
	Notifier *Notifier // nil: record the status, notify nobody
	Database string
}

// Transition is what one observation saw. Kind is "" when it notified
// nobody.
type Transition struct {
	From, To health.Status
	Kind     Kind
	// Key identifies the transition in the email task IDs.
	Key string
}

// healthState is the stored status.
type healthState struct {
	Status health.Status `json:"status"`
	// Seq counts status changes; with the statuses it names a transition.
	Seq   int64     `json:"seq"`
	Since time.Time `json:"since"`
	// Failing are the checks that did not pass at the last observation.
	Failing []string `json:"failing,omitempty"`
}

// transition decides whether a change of the overall status is worth an
// email. fail→warn is not: the administrator already knows it is unwell,
// and will hear when it recovers or fails again.
func transition(from, to health.Status) (Kind, bool) {
	switch {
	case from == to:
		return "", false
	case to == health.Fail:
		return KindHealthFailed, true
	case to == health.Warn && from == health.Pass:
		return KindHealthDegraded, true
	case to == health.Pass:
		return KindHealthRecovered, true
	}
	return "", false
}

// Observe compares rep's status with the stored one, notifies a change,
// and only then stores the new status: a crash in between makes the next
// observation see the same transition, whose key gives the same email task
// IDs, so the email is queued once. With nothing stored, the last status
// counts as pass: a server that is failing when first watched is reported.
func (w *HealthWatch) Observe(ctx context.Context, rep health.Report) (Transition, error) {
	key := HealthKeyPrefix + w.Database
	prev, found := healthState{Status: health.Pass}, false
	raw, err := w.Redis.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return Transition{}, fmt.Errorf("read last health status: %w", err)
	default:
		// An unreadable value is replaced below; it counts as pass.
		found = json.Unmarshal(raw, &prev) == nil
		if !found {
			prev = healthState{Status: health.Pass}
		}
	}

	tr := Transition{From: prev.Status, To: rep.Status}
	if kind, ok := transition(prev.Status, rep.Status); ok {
		tr.Kind = kind
		tr.Key = fmt.Sprintf("%s:%s-%s:%d", w.Database, prev.Status, rep.Status, prev.Seq)
		h := Health{From: prev.Status, To: rep.Status, Since: prev.Since, Checks: checksOf(rep)}
		if kind == KindHealthRecovered {
			h.Recovered = prev.Failing
		}
		d := Data{Database: w.Database, Time: rep.Time, Health: &h}
		if err := w.Notifier.sendHealth(ctx, kind, tr.Key, d); err != nil {
			return tr, fmt.Errorf("notify health %s: %w", kind, err)
		}
	}

	next := prev
	if !found || rep.Status != prev.Status {
		next = healthState{Status: rep.Status, Seq: prev.Seq + 1, Since: rep.Time}
	}
	next.Failing = rep.Failed()
	slices.Sort(next.Failing)
	b, err := json.Marshal(next)
	if err != nil {
		return tr, fmt.Errorf("encode health status: %w", err)
	}
	if err := w.Redis.Set(ctx, key, b, healthStateTTL).Err(); err != nil {
		return tr, fmt.Errorf("store health status: %w", err)
	}
	return tr, nil
}

// checksOf lists the checks that do not pass, failures first, or every
// check when all pass.
func checksOf(rep health.Report) []Check {
	var out []Check
	for name, r := range rep.Checks {
		if r.Status == health.Pass && rep.Status != health.Pass {
			continue
		}
		out = append(out, Check{Name: name, Status: r.Status, Output: r.Output, Value: observed(r.ObservedValue, r.ObservedUnit)})
	}
	slices.SortFunc(out, func(a, b Check) int {
		if d := b.Status.Severity() - a.Status.Severity(); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}
