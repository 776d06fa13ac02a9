package health

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestHistory keeps more rounds than HistoryKeep in the real Redis and
// reads them back: newest first, capped, with an expiry, per database.
func TestHistory(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t).Client(t)
	h := &History{Redis: rdb, Database: "cantina"}

	if got, err := h.LastRounds(ctx, 5); err != nil || len(got) != 0 {
		t.Fatalf("no rounds yet: %v, %v", got, err)
	}
	for i := range HistoryKeep + 5 {
		rep := Report{Status: Pass, Time: t0.Add(time.Duration(i) * time.Hour), Checks: map[string]Result{
			"disk:utilization": {Status: Warn, ObservedValue: float64(i), ObservedUnit: "%", Output: fmt.Sprint("round ", i)},
		}}
		if err := h.Add(ctx, rep); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		n    int
		want int
	}{
		{"the last three", 3, 3},
		{"more than kept", 1000, HistoryKeep},
		{"none", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.LastRounds(ctx, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("%d rounds, want %d", len(got), tt.want)
			}
			for i, rep := range got {
				round := HistoryKeep + 4 - i
				if !rep.Time.Equal(t0.Add(time.Duration(round)*time.Hour)) || rep.Checks["disk:utilization"].Output != fmt.Sprint("round ", round) {
					t.Errorf("rounds[%d] = %+v, want round %d", i, rep, round)
				}
			}
		})
	}

	if n, err := rdb.LLen(ctx, HistoryKeyPrefix+"cantina").Result(); err != nil || n != HistoryKeep {
		t.Errorf("list holds %d rounds (%v), want %d", n, err, HistoryKeep)
	}
	if ttl, err := rdb.TTL(ctx, HistoryKeyPrefix+"cantina").Result(); err != nil || ttl <= 0 || ttl > historyTTL {
		t.Errorf("ttl %s (%v), want up to %s", ttl, err, historyTTL)
	}
	if got, err := (&History{Redis: rdb, Database: "other"}).LastRounds(ctx, 5); err != nil || len(got) != 0 {
		t.Errorf("another database sees %d rounds (%v)", len(got), err)
	}

	// A round another version wrote in a shape we cannot read is skipped.
	if err := rdb.LPush(ctx, HistoryKeyPrefix+"cantina", "not json").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := h.LastRounds(ctx, 2); err != nil || len(got) != 1 || got[0].Checks["disk:utilization"].Output != fmt.Sprint("round ", HistoryKeep+4) {
		t.Errorf("with a bad entry: %+v, %v", got, err)
	}
}
