package ratelimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/testenv"
	"github.com/redis/go-redis/v9"
)

func TestKey(t *testing.T) {
	p := Policy{Name: "user", Limit: 1, Period: time.Second, Burst: 1}
	k := Key(p, "203.0.113.7")
	if !strings.HasPrefix(k, "cantina:rl:{user:") || !strings.HasSuffix(k, "}") || len(k) != len("cantina:rl:{user:}")+32 {
		t.Fatalf("Key = %q, want cantina:rl:{user:<32 hex digits>}", k)
	}
	if strings.Contains(k, "203.0.113.7") {
		t.Fatalf("Key = %q shows the subject in clear", k)
	}
	if Key(p, "203.0.113.8") == k || Key(Policy{Name: "ip"}, "203.0.113.7") == k {
		t.Fatalf("different subjects or policies share the key %q", k)
	}
}

// TestLimiterBurst: N requests within the window, sequential and concurrent,
// let exactly Burst pass. The interval (12 min) is far longer than the test,
// so no request can be refilled in between.
func TestLimiterBurst(t *testing.T) {
	rdb := testenv.Redis(t).Client(t)
	l := NewLimiter(rdb)
	ctx := context.Background()
	p, err := ParsePolicy("5/1h")
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "ip"

	t.Run("sequential", func(t *testing.T) {
		for i := range 20 {
			d, err := l.Allow(ctx, p, "198.51.100.1")
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if i < 5 {
				if !d.Allowed || d.Remaining != 4-i || d.Limit != 5 || d.ResetAfter > time.Duration(i+1)*12*time.Minute || d.ResetAfter <= time.Duration(i)*12*time.Minute {
					t.Fatalf("request %d: got %+v, want allowed with %d remaining, reset within (%d, %d] × 12 min", i, d, 4-i, i, i+1)
				}
				continue
			}
			if d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 || d.RetryAfter > 12*time.Minute {
				t.Fatalf("request %d: got %+v, want refused with a wait of at most one interval (12 min)", i, d)
			}
		}
		keys, err := rdb.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0] != Key(p, "198.51.100.1") {
			t.Fatalf("keys = %q, want only %q", keys, Key(p, "198.51.100.1"))
		}
		ttl, err := rdb.PTTL(ctx, keys[0]).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 59*time.Minute || ttl > time.Hour {
			t.Fatalf("TTL = %s, want the time until the bucket is full again (≤ 1h, > 59 min)", ttl)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		passed := 0
		for range 50 {
			wg.Go(func() {
				d, err := l.Allow(ctx, p, "198.51.100.2")
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if passed != 5 {
			t.Fatalf("%d of 50 concurrent requests passed, want exactly the burst, 5", passed)
		}
	})

	t.Run("subjects and policies are separate", func(t *testing.T) {
		d, err := l.Allow(ctx, p, "198.51.100.3")
		if err != nil || !d.Allowed || d.Remaining != 4 {
			t.Fatalf("a fresh subject: got %+v, %v; want allowed with 4 remaining", d, err)
		}
		q := p
		q.Name = "user"
		d, err = l.Allow(ctx, q, "198.51.100.1")
		if err != nil || !d.Allowed || d.Remaining != 4 {
			t.Fatalf("the same subject under another policy: got %+v, %v; want allowed with 4 remaining", d, err)
		}
	})

	t.Run("invalid policy", func(t *testing.T) {
		if _, err := l.Allow(ctx, Policy{Name: "x"}, "s"); err == nil || !strings.Contains(err.Error(), "invalid policy") {
			t.Fatalf("Allow with a zero policy: err = %v, want invalid policy", err)
		}
	})
}

// TestLimiterTwin drives the script and Decide through the same timeline:
// each call starts from a stored TAT the test wrote (random, around Redis's
// clock: in the past, within the burst, beyond it as after a clock jump, or
// none), and the script returns the Redis TIME it used. Decide given the
// same TAT and time must give the same decision, and the same TAT stored.
func TestLimiterTwin(t *testing.T) {
	rdb := testenv.Redis(t).Client(t)
	l := NewLimiter(rdb)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	policies := []string{"3/1s", "10/1m burst=2", "7/1s burst=20", "1000/1s burst=5", "1/1h"}
	for _, s := range policies {
		p, err := ParsePolicy(s)
		if err != nil {
			t.Fatal(err)
		}
		p.Name = "twin"
		t.Run(s, func(t *testing.T) {
			key := Key(p, "subject")
			counts := map[bool]int{}
			for i := range 200 {
				clock, err := rdb.Time(ctx).Result()
				if err != nil {
					t.Fatal(err)
				}
				var stored time.Time
				if r.IntN(10) > 0 {
					span := 2*p.capacity() + int64(time.Hour/time.Microsecond)*int64(r.IntN(2))
					stored = time.UnixMicro(clock.UnixMicro() - p.capacity() + r.Int64N(span))
					if err := rdb.Set(ctx, key, strconv.FormatInt(stored.UnixMicro(), 10), time.Hour).Err(); err != nil {
						t.Fatal(err)
					}
				} else if err := rdb.Del(ctx, key).Err(); err != nil {
					t.Fatal(err)
				}
				ds, now, err := l.allowAll(ctx, []Check{{Policy: p, Subject: "subject"}})
				if err != nil {
					t.Fatal(err)
				}
				got := ds[0]
				want, wantTAT := Decide(p, stored, now)
				if got != want {
					t.Fatalf("call %d, stored TAT %s, now %s: script %+v, Decide %+v", i, stored, now, got, want)
				}
				counts[got.Allowed]++
				v, err := rdb.Get(ctx, key).Int64()
				if err != nil && stored.IsZero() && !got.Allowed {
					continue
				}
				if errors.Is(err, redis.Nil) {
					// The key's TTL ends with its TAT: with 1 ms intervals
					// it may have expired already, which is consistent
					// only if the TAT has passed by Redis's clock.
					after, terr := rdb.Time(ctx).Result()
					if terr != nil {
						t.Fatal(terr)
					}
					if !wantTAT.After(after.Add(time.Millisecond)) {
						continue
					}
				}
				if err != nil || v != wantTAT.UnixMicro() {
					t.Fatalf("call %d: stored TAT %d, %v; Decide stored %d", i, v, err, wantTAT.UnixMicro())
				}
			}
			t.Logf("%s: %d allowed, %d refused", s, counts[true], counts[false])
		})
	}
}

// TestAllowAllTwin: several policies in one call decide as Decide does,
// each on its own key at the same Redis clock, in order, and the call
// stops at the first refusal: a policy after it spends nothing. The
// Limiter of a single server and one that sends a key per call (as to a
// cluster) answer alike.
func TestAllowAllTwin(t *testing.T) {
	rdb := testenv.Redis(t).Client(t)
	ctx := context.Background()
	pol := func(name, s string) Policy {
		p, err := ParsePolicy(s)
		if err != nil {
			t.Fatal(err)
		}
		p.Name = name
		return p
	}
	route, ip, user := pol("user:POST/v/", "2/1h"), pol("ip", "3/1h"), pol("user", "10/1h")
	checks := []Check{{route, "session:a"}, {ip, "192.0.2.1"}, {user, "session:a"}}
	for _, single := range []bool{true, false} {
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		l := NewLimiter(rdb)
		if !single {
			l = NewLimiter(redis.UniversalClient(&perKey{rdb}))
		}
		tat := map[string]time.Time{}
		for call := range 4 {
			var ds []Decision
			var now time.Time
			var err error
			if single {
				ds, now, err = l.allowAll(ctx, checks)
			} else {
				ds, err = l.AllowAll(ctx, checks)
			}
			if err != nil {
				t.Fatal(err)
			}
			// Calls 1 and 2 pass all three; call 3 is refused by the route
			// policy, before ip and user; call 4 too.
			wantN := 3
			if call >= 2 {
				wantN = 1
			}
			if len(ds) != wantN || ds[len(ds)-1].Allowed != (call < 2) {
				t.Fatalf("single=%v call %d: %+v, want %d decisions", single, call+1, ds, wantN)
			}
			for i, d := range ds {
				c := checks[i]
				if single {
					want, next := Decide(c.Policy, tat[c.Policy.Name], now)
					if d != want {
						t.Fatalf("call %d, %s: script %+v, Decide %+v", call+1, c.Policy.Name, d, want)
					}
					tat[c.Policy.Name] = next
				}
				if want := c.Policy.Burst - 1 - min(call, 1); d.Allowed && d.Remaining != want {
					t.Fatalf("single=%v call %d, %s: %d remaining, want %d", single, call+1, c.Policy.Name, d.Remaining, want)
				}
			}
		}
		// ip and user were spent twice, not by the refused calls.
		for _, c := range checks[1:] {
			d, err := l.Allow(ctx, c.Policy, c.Subject)
			if err != nil || d.Remaining != c.Policy.Burst-3 {
				t.Errorf("single=%v %s: %+v %v, want %d remaining after 2 spent and this one", single, c.Policy.Name, d, err, c.Policy.Burst-3)
			}
		}
	}
}

// perKey is a Redis client that is not a *redis.Client, so that the
// Limiter sends one key per call, as it does to a cluster.
type perKey struct{ *redis.Client }

// TestLimiterCluster: on a three-master Redis Cluster a request's
// policies, whose keys lie in different slots, are decided one key per
// call, with the same answers and the same stop at the first refusal; each
// subject's keys spread over the masters by their hash tags.
func TestLimiterCluster(t *testing.T) {
	addrs := testenv.StartRedisCluster(t)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = rdb.Close() })
	l := NewLimiter(rdb)
	ctx := context.Background()
	route, ip := Policy{Name: "user:POST/v/", Limit: 2, Period: time.Hour, Burst: 2}, Policy{Name: "ip", Limit: 3, Period: time.Hour, Burst: 3}
	slots := map[int64]bool{}
	for s := range 30 {
		subject := "192.0.2." + strconv.Itoa(s)
		checks := []Check{{route, subject}, {ip, subject}}
		for call := range 3 {
			ds, err := l.AllowAll(ctx, checks)
			if err != nil {
				t.Fatal(err)
			}
			wantN, allowed := 2, true
			if call == 2 {
				wantN, allowed = 1, false // refused by route: ip not spent
			}
			if len(ds) != wantN || ds[len(ds)-1].Allowed != allowed {
				t.Fatalf("subject %d call %d: %+v", s, call+1, ds)
			}
		}
		d, err := l.Allow(ctx, ip, subject)
		if err != nil || d.Remaining != 0 || !d.Allowed {
			t.Fatalf("subject %d: ip after 2 spent: %+v %v, want its third and last", s, d, err)
		}
		slot, err := rdb.ClusterKeySlot(ctx, Key(ip, subject)).Result()
		if err != nil {
			t.Fatal(err)
		}
		slots[slot/5462] = true // 16384 slots over 3 masters
	}
	if len(slots) != 3 {
		t.Errorf("30 subjects' keys fell in %d of 3 masters' slot ranges", len(slots))
	}
}
