package health

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/logging"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

func slogTo(w io.Writer) *slog.Logger { return logging.New(w, logging.Options{Format: "text"}) }

// gate is a check that blocks until released and counts its runs.
type gate struct {
	started chan struct{} // receives once per run
	release chan struct{}
	runs    atomic.Int64
}

func newGate() *gate { return &gate{started: make(chan struct{}, 16), release: make(chan struct{})} }

func (g *gate) run(ctx context.Context) Report {
	g.runs.Add(1)
	select {
	case g.started <- struct{}{}:
	default:
	}
	<-g.release
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	return Report{Status: Warn, Time: now, Checks: map[string]Result{
		"disk:utilization": {Status: Warn, ObservedValue: 83.5, ObservedUnit: "%", Output: "disk almost full", Time: now},
	}}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)} }

// TestRoundsTTL: a round is served until its TTL passes on the injected
// clock, then the next caller gets a new one.
func TestRoundsTTL(t *testing.T) {
	var n atomic.Int64
	run := func(context.Context) Report {
		n.Add(1)
		return Report{Status: Pass, Checks: map[string]Result{"cpu:utilization": {Status: Pass, ObservedValue: float64(n.Load())}}}
	}
	clk := newClock()
	r := NewRounds(run, RoundsOptions{TTL: 10 * time.Second, Now: clk.Now, Version: "v1"})
	if _, ok := r.Last(); ok {
		t.Error("Last before any round reports one")
	}
	steps := []struct {
		name    string
		advance time.Duration
		runs    int64
	}{
		{"first call runs", 0, 1},
		{"within the TTL: cached", 9 * time.Second, 1},
		{"just before expiry: cached", time.Second - time.Nanosecond, 1},
		{"at expiry: a new round", time.Nanosecond, 2},
		{"cached again", 5 * time.Second, 2},
		{"long after: a new round", time.Hour, 3},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clk.Add(s.advance)
			round, err := r.Get(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if r.Runs() != s.runs {
				t.Errorf("%d rounds run, want %d", r.Runs(), s.runs)
			}
			if v := round.Report.Checks["cpu:utilization"].ObservedValue; v != float64(s.runs) {
				t.Errorf("served the report of round %v, want %d", v, s.runs)
			}
			if !round.Expires.After(clk.Now()) || !strings.Contains(string(round.Document), `"version": "v1"`) {
				t.Errorf("round expires %s (now %s), document %s", round.Expires, clk.Now(), round.Document)
			}
			if last, ok := r.Last(); !ok || last.Checks["cpu:utilization"].ObservedValue != float64(s.runs) {
				t.Errorf("Last = %+v, %v", last, ok)
			}
		})
	}
}

// TestRoundsConcurrentCallers: callers that arrive while a round is in
// flight wait for it instead of starting their own.
func TestRoundsConcurrentCallers(t *testing.T) {
	g := newGate()
	r := NewRounds(g.run, RoundsOptions{TTL: time.Hour, Now: newClock().Now})
	const callers = 50
	var wg sync.WaitGroup
	var entered atomic.Int64
	rounds := make([]*Round, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entered.Add(1)
			round, err := r.Get(context.Background())
			if err != nil {
				t.Error(err)
			}
			rounds[i] = round
		}()
	}
	<-g.started
	// Every caller is in Get while the first round is blocked; with a
	// frozen clock any straggler finds the round cached, so one round it
	// must be.
	testenv.Eventually(t, 10*time.Second, "every caller in Get", func() bool { return entered.Load() == callers })
	close(g.release)
	wg.Wait()
	if g.runs.Load() != 1 || r.Runs() != 1 {
		t.Errorf("%d callers started %d rounds (counter %d), want 1", callers, g.runs.Load(), r.Runs())
	}
	for i, round := range rounds {
		if round != rounds[0] {
			t.Errorf("caller %d got another round", i)
		}
	}
}

// TestRoundsCallerGivesUp: a caller whose context ends stops waiting, the
// round goes on and serves the next caller.
func TestRoundsCallerGivesUp(t *testing.T) {
	g := newGate()
	r := NewRounds(g.run, RoundsOptions{TTL: time.Hour, Now: newClock().Now})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := r.Get(ctx); errc <- err }()
	<-g.started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Get after cancel = %v, want context.Canceled", err)
	}
	close(g.release)
	round, err := r.Get(context.Background())
	if err != nil || round.Report.Status != Warn || r.Runs() != 1 {
		t.Errorf("next caller: %v, %+v, %d runs; want the first round's report", err, round, r.Runs())
	}
}

// TestRoundsSharedThroughRedis: two processes ("replicas") on one real
// Redis run one round between them: the second finds the first holding the
// lock, waits, and serves the report the first stored; a third arriving
// later reads it too.
func TestRoundsSharedThroughRedis(t *testing.T) {
	rdb := testenv.Redis(t)
	ga, gb := newGate(), newGate()
	close(gb.release) // b would not block: only a run would show
	a := NewRounds(ga.run, RoundsOptions{TTL: time.Minute, Redis: rdb.Client(t), Version: "a"})
	b := NewRounds(gb.run, RoundsOptions{TTL: time.Minute, Redis: rdb.Client(t), Version: "b"})
	bWaits := make(chan struct{})
	b.onWait = func() { close(bWaits) }

	got := make(chan *Round, 2)
	get := func(r *Rounds) {
		round, err := r.Get(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- round
	}
	go get(a)
	<-ga.started // a holds the lock and runs the checks
	go get(b)
	<-bWaits // b found the lock taken and waits for a's report
	close(ga.release)
	r1, r2 := <-got, <-got
	if a.Runs() != 1 || b.Runs() != 0 {
		t.Fatalf("rounds run: a %d, b %d; want 1 and 0", a.Runs(), b.Runs())
	}
	for _, round := range []*Round{r1, r2} {
		if round.Report.Status != Warn || round.Report.Checks["disk:utilization"].Output != "disk almost full" {
			t.Errorf("report %+v, want a's", round.Report)
		}
	}
	bRound, _ := b.Get(context.Background())
	if !strings.Contains(string(bRound.Document), `"version": "b"`) {
		t.Errorf("b serves another version's document: %s", bRound.Document)
	}
	if ttl := rdb.Client(t).PTTL(context.Background(), DefaultRoundKey).Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("stored round's TTL %s, want within HEALTH_CACHE_TTL", ttl)
	}
	if n := rdb.Client(t).Exists(context.Background(), DefaultRoundKey+":lock").Val(); n != 0 {
		t.Error("the lock outlives the round")
	}

	gc := newGate()
	close(gc.release)
	c := NewRounds(gc.run, RoundsOptions{TTL: time.Minute, Redis: rdb.Client(t)})
	if round, err := c.Get(context.Background()); err != nil || c.Runs() != 0 || round.Report.Status != Warn {
		t.Errorf("third replica: %v, %d runs, %+v; want the stored round", err, c.Runs(), round)
	}
}

// TestRoundsRedisDown: without Redis the rounds are cached in process, the
// callers never see an error, and one log line says so.
func TestRoundsRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	var logs testenv.SyncBuffer
	g := newGate()
	close(g.release)
	clk := newClock()
	r := NewRounds(g.run, RoundsOptions{TTL: time.Minute, Redis: rdb, Now: clk.Now, Logger: slogTo(&logs)})
	for i := range 3 {
		round, err := r.Get(context.Background())
		if err != nil || round.Report.Status != Warn {
			t.Fatalf("Get %d with Redis down: %v, %+v", i, err, round)
		}
		clk.Add(30 * time.Second)
	}
	if r.Runs() != 2 {
		t.Errorf("%d rounds in 60 s with a 1 min TTL, want 2", r.Runs())
	}
	if n := strings.Count(logs.String(), "cached in this process only"); n != 1 {
		t.Errorf("%d log lines about the fallback, want 1:\n%s", n, logs.String())
	}
}
