package ratelimit

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// BenchmarkAllow compares Limiter.Allow with github.com/go-redis/redis_rate
// (also GCRA in one Lua script) on the same Redis, in the same run, with
// the same rate and the same subjects, from 8×GOMAXPROCS goroutines, in two
// scenarios: "spread" (10,000 subjects at 100/1s: nearly all pass, every
// decision writes) and "flood" (100 subjects at 10/1s: most are refused).
// It reports decisions/s, the p99 latency of one decision and the share
// allowed. Run it with docs/BENCHMARKS.md's command.
func BenchmarkAllow(b *testing.B) {
	rdb := testenv.Redis(b).Client(b)
	ours := NewLimiter(rdb)
	theirs := redis_rate.NewLimiter(rdb)
	for _, sc := range []struct {
		name     string
		subjects int
		p        Policy
	}{
		{"spread", 10000, Policy{Name: "bench", Limit: 100, Period: time.Second, Burst: 100}},
		{"flood", 100, Policy{Name: "bench", Limit: 10, Period: time.Second, Burst: 10}},
	} {
		b.Run(sc.name, func(b *testing.B) { benchAllow(b, ours, theirs, sc.subjects, sc.p) })
	}
}

func benchAllow(b *testing.B, ours *Limiter, theirs *redis_rate.Limiter, subjects int, p Policy) {
	ctx := context.Background()
	theirLimit := redis_rate.Limit{Rate: p.Limit, Period: p.Period, Burst: p.Burst}
	names := make([]string, subjects)
	for i := range names {
		names[i] = "203.0.113." + strconv.Itoa(i)
	}
	run := func(b *testing.B, allow func(subject string) (bool, error)) {
		var next atomic.Uint64
		var mu sync.Mutex
		var lat []time.Duration
		var allowed atomic.Int64
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			mine := make([]time.Duration, 0, 1024)
			for pb.Next() {
				s := names[next.Add(1)%uint64(subjects)]
				start := time.Now()
				ok, err := allow(s)
				mine = append(mine, time.Since(start))
				if err != nil {
					b.Error(err)
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		if len(lat) > 0 {
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		}
		b.ReportMetric(float64(allowed.Load())/float64(b.N), "allowed/op")
	}
	b.Run("ours", func(b *testing.B) {
		run(b, func(s string) (bool, error) {
			d, err := ours.Allow(ctx, p, s)
			return d.Allowed, err
		})
	})
	b.Run("redis_rate", func(b *testing.B) {
		run(b, func(s string) (bool, error) {
			r, err := theirs.Allow(ctx, "bench:"+s, theirLimit)
			return err == nil && r.Allowed > 0, err
		})
	})
}
