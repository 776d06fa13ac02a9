package ratelimit

import (
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// step is one request at t0+at, and what Decide must answer.
type step struct {
	at   time.Duration
	want Decision
}

func TestDecide(t *testing.T) {
	// 3/3s burst 3: T = 1s, capacity 3s.
	p3 := Policy{Name: "p", Limit: 3, Period: 3 * time.Second, Burst: 3}
	// 60/1m burst 2: T = 1s, capacity 2s.
	p2 := Policy{Name: "p", Limit: 60, Period: time.Minute, Burst: 2}
	ok := func(rem int, reset time.Duration, limit int) Decision {
		return Decision{Allowed: true, Remaining: rem, ResetAfter: reset, Limit: limit}
	}
	no := func(retry, reset time.Duration, limit int) Decision {
		return Decision{RetryAfter: retry, ResetAfter: reset, Limit: limit}
	}
	s := time.Second
	ms := time.Millisecond
	tests := []struct {
		name  string
		p     Policy
		steps []step
	}{
		{"burst passes then refused", p3, []step{
			{0, ok(2, 1*s, 3)}, {0, ok(1, 2*s, 3)}, {0, ok(0, 3*s, 3)},
			{0, no(1*s, 3*s, 3)}, {0, no(1*s, 3*s, 3)},
		}},
		{"exact boundary: refused 1µs early, allowed on time", p3, []step{
			{0, ok(2, 1*s, 3)}, {0, ok(1, 2*s, 3)}, {0, ok(0, 3*s, 3)},
			{s - time.Microsecond, no(time.Microsecond, 2*s+time.Microsecond, 3)},
			{s, ok(0, 3*s, 3)},
		}},
		{"steady rate at T never refused", p2, []step{
			{0, ok(1, 1*s, 2)}, {1 * s, ok(1, 1*s, 2)}, {2 * s, ok(1, 1*s, 2)}, {3 * s, ok(1, 1*s, 2)},
		}},
		{"faster than T: burst absorbs, then refused", p2, []step{
			{0, ok(1, 1*s, 2)}, {500 * ms, ok(0, 1500*ms, 2)}, {900 * ms, no(100*ms, 1100*ms, 2)},
			{2000 * ms, ok(1, 1000*ms, 2)},
		}},
		{"refill: an idle subject is full again", p3, []step{
			{0, ok(2, 1*s, 3)}, {0, ok(1, 2*s, 3)}, {0, ok(0, 3*s, 3)},
			{1500 * ms, ok(0, 2500*ms, 3)},
			{10 * s, ok(2, 1*s, 3)},
		}},
		{"partial refill", p3, []step{
			{0, ok(2, 1*s, 3)}, {0, ok(1, 2*s, 3)}, {0, ok(0, 3*s, 3)},
			{2 * s, ok(1, 2*s, 3)},
		}},
		{"burst smaller than limit", Policy{Name: "p", Limit: 30, Period: time.Minute, Burst: 2}, []step{
			{0, ok(1, 2*s, 2)}, {0, ok(0, 4*s, 2)}, {0, no(2*s, 4*s, 2)}, {2 * s, ok(0, 4*s, 2)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tat time.Time
			for i, st := range tt.steps {
				var got Decision
				got, tat = Decide(tt.p, tat, t0.Add(st.at))
				if got != st.want {
					t.Fatalf("step %d at +%s: got %+v, want %+v", i, st.at, got, st.want)
				}
			}
		})
	}
}

func TestDecideClockBackwards(t *testing.T) {
	p := Policy{Name: "p", Limit: 3, Period: 3 * time.Second, Burst: 3}
	// A TAT written by a clock an hour ahead.
	tat := t0.Add(time.Hour)
	d, got := Decide(p, tat, t0)
	want := Decision{RetryAfter: time.Second, ResetAfter: 3 * time.Second, Limit: 3}
	if d != want || !got.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("after a 1h backwards jump: got %+v, TAT %s; want %+v (treated as an empty bucket, not locked out an hour), TAT clamped to now+3s", d, got, want)
	}
	// And the subject is served one interval later.
	if d, _ := Decide(p, got, t0.Add(time.Second)); !d.Allowed {
		t.Fatalf("1s after a backwards jump: refused %+v, want allowed", d)
	}
	// A TAT slightly ahead (within the burst) is simply spent budget.
	d, _ = Decide(p, t0.Add(2*time.Second), t0)
	if !d.Allowed || d.Remaining != 0 {
		t.Fatalf("TAT 2s ahead: got %+v, want the last request of the burst", d)
	}
}

// TestDecideNeverExceedsRate checks GCRA's promise on random arrivals: in
// any window [a, a+w], at most Burst + w/T requests pass.
func TestDecideNeverExceedsRate(t *testing.T) {
	p := Policy{Name: "p", Limit: 10, Period: time.Second, Burst: 4} // T = 100ms
	r := rand.New(rand.NewPCG(1, 2))
	var tat time.Time
	var passed []time.Time
	now := t0
	for range 5000 {
		now = now.Add(time.Duration(r.IntN(120)) * time.Millisecond)
		d, next := Decide(p, tat, now)
		tat = next
		if d.Allowed {
			passed = append(passed, now)
		}
		if d.Remaining < 0 || d.Remaining >= p.Burst || (d.Allowed == (d.RetryAfter != 0)) {
			t.Fatalf("at %s: inconsistent decision %+v", now, d)
		}
	}
	w := 2 * time.Second
	limit := p.Burst + int(w/(p.Period/time.Duration(p.Limit)))
	for i := range passed {
		n := 0
		for j := i; j < len(passed) && passed[j].Sub(passed[i]) <= w; j++ {
			n++
		}
		if n > limit {
			t.Fatalf("%d requests passed in the %s from %s, want at most %d", n, w, passed[i], limit)
		}
	}
	if len(passed) < 1000 {
		t.Fatalf("only %d of 5000 passed: the limiter refuses more than the rate", len(passed))
	}
}
