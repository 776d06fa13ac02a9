package backup

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestRetryBusy: a busy error is retried with growing waits until the
// operation succeeds or the limit is spent; any other error is returned
// at once.
func TestRetryBusy(t *testing.T) {
	errBusy := errors.New("busy")
	errOther := errors.New("other")
	busy := func(err error) bool { return errors.Is(err, errBusy) }
	tests := []struct {
		name      string
		results   []error // of successive attempts; the last repeats
		limit     time.Duration
		want      error
		wantCalls int
		wantWaits []time.Duration // in ms
	}{
		{"success", []error{nil}, time.Second, nil, 1, nil},
		{"other error", []error{errOther}, time.Second, errOther, 1, nil},
		{"busy then free", []error{errBusy, errBusy, nil}, time.Second, nil, 3,
			[]time.Duration{5, 10}},
		{"busy then other", []error{errBusy, errOther}, time.Second, errOther, 2,
			[]time.Duration{5}},
		{"busy past the limit", []error{errBusy}, 20 * time.Millisecond, errBusy, 4,
			[]time.Duration{5, 10, 20}},
		{"waits capped", []error{errBusy}, time.Second, errBusy, 10,
			[]time.Duration{5, 10, 20, 40, 80, 160, 250, 250, 250}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			op := func() error {
				r := tt.results[min(calls, len(tt.results)-1)]
				calls++
				return r
			}
			var waits []time.Duration
			err := retryBusy(op, busy, tt.limit, func(d time.Duration) { waits = append(waits, d) })
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d attempts, want %d", calls, tt.wantCalls)
			}
			var want []time.Duration
			for _, ms := range tt.wantWaits {
				want = append(want, ms*time.Millisecond)
			}
			if !slices.Equal(waits, want) {
				t.Errorf("waits %v, want %v", waits, want)
			}
		})
	}
}
