package health

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/backup"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

func check(name string, s Status) Check {
	return Check{Name: name, Run: func(context.Context) Result { return Result{Status: s, Output: name} }}
}

func TestCheckerCombinesStatuses(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		want   Status
		failed []string
	}{
		{"no checks", nil, Pass, nil},
		{"all pass", []Check{check("a", Pass), check("b", Pass)}, Pass, nil},
		{"one warns", []Check{check("a", Pass), check("b", Warn)}, Warn, []string{"b"}},
		{"fail beats warn", []Check{check("a", Fail), check("b", Warn), check("c", Pass)}, Fail, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := (&Checker{Checks: tt.checks}).Run(context.Background())
			if rep.Status != tt.want {
				t.Errorf("status %s, want %s", rep.Status, tt.want)
			}
			failed := rep.Failed()
			slices.Sort(failed)
			if !slices.Equal(failed, tt.failed) {
				t.Errorf("failed %v, want %v", failed, tt.failed)
			}
			if len(rep.Checks) != len(tt.checks) {
				t.Errorf("%d results for %d checks", len(rep.Checks), len(tt.checks))
			}
		})
	}
}

// TestCheckerTimeout: each check gets a context that ends after Timeout;
// a check that honours it reports a failure instead of hanging the report.
func TestCheckerTimeout(t *testing.T) {
	var deadline time.Time
	hang := Check{Name: "hang", Run: func(ctx context.Context) Result {
		deadline, _ = ctx.Deadline()
		<-ctx.Done()
		return Result{Status: Fail, Output: ctx.Err().Error()}
	}}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := &Checker{Checks: []Check{hang, check("ok", Pass)}, Timeout: 10 * time.Millisecond, Now: func() time.Time { return now }}
	rep := c.Run(context.Background())
	if rep.Status != Fail || rep.Checks["hang"].Output != context.DeadlineExceeded.Error() || rep.Checks["ok"].Status != Pass {
		t.Errorf("report %+v", rep)
	}
	if deadline.IsZero() {
		t.Error("the check's context had no deadline")
	}
	if !rep.Time.Equal(now) || !rep.Checks["ok"].Time.Equal(now) {
		t.Errorf("times not from the injected clock: %s, %s", rep.Time, rep.Checks["ok"].Time)
	}
}

// TestCheckIgnoringItsContext: a check blocked in a call that ignores its
// context (a stat on a hung mount) fails as timed out; the round does not
// wait for it.
func TestCheckIgnoringItsContext(t *testing.T) {
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	c := &Checker{Timeout: 50 * time.Millisecond, Checks: []Check{
		{Name: "disk:utilization", Run: func(context.Context) Result { <-stuck; return Result{Status: Pass} }},
		{Name: "queue:responseTime", Run: func(context.Context) Result { return Result{Status: Pass} }},
	}}
	rep := c.Run(context.Background())
	if r := rep.Checks["disk:utilization"]; r.Status != Fail || !strings.Contains(r.Output, "timed out after 50ms") {
		t.Errorf("stuck check: %+v", r)
	}
	if r := rep.Checks["queue:responseTime"]; r.Status != Pass {
		t.Errorf("other check: %+v", r)
	}
	if rep.Status != Fail {
		t.Errorf("status %s", rep.Status)
	}
}

// countingLister counts its listings; each waits for release.
type countingLister struct {
	calls   atomic.Int32
	release chan struct{}
}

func (c *countingLister) List(context.Context) (backup.Listing, error) {
	c.calls.Add(1)
	<-c.release
	return backup.Listing{Backups: []backup.Backup{{Name: "x"}}}, nil
}

// TestSharedListing: the two checks of a round that list the storage
// share one listing; the next round lists anew.
func TestSharedListing(t *testing.T) {
	inner := &countingLister{release: make(chan struct{})}
	s := &sharedListing{list: inner}
	got := make(chan int, 2)
	for range 2 {
		go func() {
			l, err := s.List(context.Background())
			if err != nil {
				t.Error(err)
			}
			got <- len(l.Backups)
		}()
	}
	// Both callers are in: one listing runs, the other waits on it.
	testenv.Eventually(t, 5*time.Second, "a listing in flight with a waiter", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.cur != nil && s.cur.shared == 1
	})
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("%d listings for two concurrent callers, want 1", n)
	}
	close(inner.release)
	if a, b := <-got, <-got; a != 1 || b != 1 {
		t.Errorf("results %d, %d", a, b)
	}
	if _, err := s.List(context.Background()); err != nil || inner.calls.Load() != 2 {
		t.Errorf("after the round: %d listings (%v), want a new one", inner.calls.Load(), err)
	}
}
