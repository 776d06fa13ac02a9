package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

func TestBucketOf(t *testing.T) {
	tests := []struct {
		ttl  time.Duration
		want string
	}{
		{time.Second, "1m"}, {time.Minute, "1m"}, {time.Minute + 1, "10m"}, {59 * time.Minute, "1h"},
		{23 * time.Hour, "1d"}, {6 * 24 * time.Hour, "7d"}, {30 * 24 * time.Hour, "inf"},
	}
	for _, tt := range tests {
		t.Run(tt.ttl.String(), func(t *testing.T) {
			i := bucketOf(tt.ttl)
			got := "inf"
			if i < len(ttlBounds) {
				got = ttlBounds[i].label
			}
			if got != tt.want {
				t.Errorf("bucketOf(%s) = %s, want %s", tt.ttl, got, tt.want)
			}
		})
	}
}

func TestTallyKinds(t *testing.T) {
	ks := Keyspace{Prefix: "pos", Version: 2}
	tl := newTally(ks, config.CacheTTLs{"productos": 5 * time.Minute}, 10)
	tl.add("pos:2:productos:1", 4*time.Minute, 100)
	tl.add("pos:2:productos:2", time.Hour, 300)                    // over the policy
	tl.add("pos:2:productos:3", -1, -1)                            // no TTL, not measured
	tl.add("pos:2:django.contrib.sessions.cacheab", time.Hour, 50) // no kind
	tl.add("pos:2:dashboard:x", -1, 10)                            // no policy
	got := map[string]KindStats{}
	for _, k := range tl.kindStats(10) { // every sampled key stands for two
		got[k.Kind] = k
	}
	p := got["productos"]
	if p.Sampled != 3 || p.Estimated != 6 || p.NoTTL != 1 || p.OverPolicy != 1 || p.Policy != "5m0s" || p.MemorySampled != 2 || p.MemoryBytes != 1200 || p.MaxTTLSeconds != 3600 {
		t.Errorf("productos = %+v", p)
	}
	if p.TTL[bucketOf(4*time.Minute)].Count != 1 || p.TTL[bucketOf(time.Hour)].Count != 1 {
		t.Errorf("productos TTL buckets = %+v", p.TTL)
	}
	if d := got["dashboard"]; d.NoTTL != 1 || d.OverPolicy != 0 || d.Policy != "" {
		t.Errorf("dashboard = %+v", d)
	}
	if n := got[NoKind]; n.Sampled != 1 {
		t.Errorf("a key without a colon is not counted under %s: %+v", NoKind, got)
	}
}

func TestTallyBoundsKinds(t *testing.T) {
	tl := newTally(Keyspace{Version: 1}, nil, 1)
	for i := range auditMaxKinds + 5 {
		tl.add(fmt.Sprintf(":1:kind%d:x", i), time.Minute, 1)
	}
	ks := tl.kindStats(tl.sampled)
	if len(ks) != auditMaxKinds+1 || ks[0].Kind != OtherKind || ks[0].Sampled != 5 {
		t.Errorf("%d kinds, first %+v; want %d and %s with 5 keys", len(ks), ks[0], auditMaxKinds+1, OtherKind)
	}
}

func TestEstimateTotal(t *testing.T) {
	tests := []struct {
		name            string
		sampled         int64
		cursor          uint64
		dbSize, atLeast int64
		atMost          int64
	}{
		{"complete scan is exact", 42, 0, 1000, 42, 42},
		// Cursor 1 on a table of 1024 buckets: reversed, half visited.
		{"half the table", 500, 1, 1024, 1000, 1000},
		// Cursor 3: three quarters visited.
		{"three quarters", 750, 3, 1024, 1000, 1000},
		{"never above the database", 900, 1, 1024, 1000, 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := estimateTotal(tt.sampled, tt.cursor, tt.dbSize)
			if got < tt.atLeast || got > tt.atMost {
				t.Errorf("estimateTotal(%d, %d, %d) = %d, want %d..%d", tt.sampled, tt.cursor, tt.dbSize, got, tt.atLeast, tt.atMost)
			}
		})
	}
}

func TestServerStats(t *testing.T) {
	info := "# Stats\r\nkeyspace_hits:30\r\nkeyspace_misses:10\r\nevicted_keys:7\r\n# Memory\r\nused_memory:1024\r\nmaxmemory:0\r\nmaxmemory_policy:allkeys-lru\r\n"
	s := serverStats(parseInfo(info))
	if s.KeyspaceHits != 30 || s.KeyspaceMisses != 10 || s.EvictedKeys != 7 || s.UsedMemory != 1024 || s.MaxMemoryPolicy != "allkeys-lru" {
		t.Errorf("stats = %+v", s)
	}
	if s.HitRatio == nil || *s.HitRatio != 0.75 {
		t.Errorf("hit ratio = %v, want 0.75", s.HitRatio)
	}
	if s := serverStats(parseInfo("keyspace_hits:0\r\n")); s.HitRatio != nil {
		t.Errorf("hit ratio without lookups = %v, want none", *s.HitRatio)
	}
}

// TestAuditFindsKeysWithoutTTLAndOverPolicy plants keys in a real Redis:
// the audit counts them per kind, finds those without a TTL and those
// over the policy, ignores keys outside the keyspace (a prefix with a glob
// character matches itself only) and reads INFO.
func TestAuditFindsKeysWithoutTTLAndOverPolicy(t *testing.T) {
	r := testenv.Redis(t)
	c := r.Client(t)
	ctx := context.Background()
	ks := Keyspace{Prefix: "cantina*", Version: 3}
	set := func(key string, ttl time.Duration) {
		t.Helper()
		if err := c.Set(ctx, key, strings.Repeat("v", 100), ttl).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		set(ks.Key(fmt.Sprintf("productos:list:%d", i)), 5*time.Minute)
	}
	for i := range 5 {
		set(ks.Key(fmt.Sprintf("productos:detail:%d", i)), 2*time.Hour) // over productos=5m
	}
	for i := range 10 {
		set(ks.Key(fmt.Sprintf("dashboard:%d", i)), 0) // no TTL
	}
	set(ks.Key("django.contrib.sessions.cacheabc"), 24*time.Hour)
	// Outside the keyspace: another prefix the glob would match unescaped,
	// another version, the queue.
	set("cantinaX:3:productos:1", 0)
	set("cantina*:4:productos:1", 0)
	set("asynq:{default}:t:1", 0)
	// One hit and one miss, so that the server has a hit ratio.
	c.Get(ctx, ks.Key("productos:list:1"))
	c.Get(ctx, ks.Key("productos:missing"))

	rep, err := Audit(ctx, c, AuditOptions{Keyspace: ks, Policy: config.CacheTTLs{"productos": 5 * time.Minute, "dashboard": time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || rep.Sampled != 46 || rep.Estimated != 46 || rep.DBSize != 49 {
		t.Errorf("complete %v, sampled %d, estimated %d, dbsize %d; want a complete scan of 46 keys out of 49", rep.Complete, rep.Sampled, rep.Estimated, rep.DBSize)
	}
	if rep.Pattern != `cantina\*:3:*` {
		t.Errorf("pattern %q", rep.Pattern)
	}
	kinds := map[string]KindStats{}
	for _, k := range rep.Kinds {
		kinds[k.Kind] = k
	}
	if len(kinds) != 3 {
		t.Errorf("kinds %v, want productos, dashboard and %s", rep.Kinds, NoKind)
	}
	p, d := kinds["productos"], kinds["dashboard"]
	if p.Sampled != 35 || p.OverPolicy != 5 || p.NoTTL != 0 || p.TTL[bucketOf(2*time.Hour)].Count != 5 || p.MemoryBytes <= 0 || p.MemorySampled != 35 {
		t.Errorf("productos = %+v", p)
	}
	if d.Sampled != 10 || d.NoTTL != 10 || d.OverPolicy != 0 {
		t.Errorf("dashboard = %+v", d)
	}
	if kinds[NoKind].Sampled != 1 {
		t.Errorf("sessions = %+v", kinds[NoKind])
	}
	if rep.NoTTL != 10 || rep.OverPolicy != 5 {
		t.Errorf("totals: %d without TTL, %d over policy; want 10 and 5", rep.NoTTL, rep.OverPolicy)
	}
	if f := rep.Findings(); !strings.Contains(f, "10 dashboard keys without TTL") || !strings.Contains(f, "5 productos keys over the policy of 5m0s") {
		t.Errorf("findings %q", f)
	}
	s := rep.Server
	if s.KeyspaceHits < 1 || s.KeyspaceMisses < 1 || s.HitRatio == nil || s.MaxMemoryPolicy == "" || s.UsedMemory <= 0 {
		t.Errorf("server stats = %+v", s)
	}
}

// TestAuditSampleIsBounded: on a keyspace larger than the sample, the
// audit stops early and extrapolates the count from the scan's progress.
func TestAuditSampleIsBounded(t *testing.T) {
	r := testenv.Redis(t)
	c := r.Client(t)
	ctx := context.Background()
	ks := Keyspace{Version: 1}
	const n = 20000
	pipe := c.Pipeline()
	for i := range n {
		pipe.Set(ctx, ks.Key(fmt.Sprintf("productos:%d", i)), "v", time.Hour)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := Audit(ctx, c, AuditOptions{Keyspace: ks, MaxKeys: 2000, MemorySample: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete || rep.Sampled < 2000 || rep.Sampled >= n {
		t.Fatalf("complete %v after %d keys; want a partial sample of at least 2000", rep.Complete, rep.Sampled)
	}
	t.Logf("estimated %d keys from %d sampled (%d planted)", rep.Estimated, rep.Sampled, n)
	// The estimate is statistical: keys spread evenly over the buckets,
	// and 2000 of them make it good to a few percent; the bounds are wide.
	if rep.Estimated < n/2 || rep.Estimated > n {
		t.Errorf("estimated %d keys from %d sampled, want about %d", rep.Estimated, rep.Sampled, n)
	}
	if k := rep.Kinds[0]; k.Kind != "productos" || k.MemorySampled != 5 || k.Estimated != rep.Estimated {
		t.Errorf("kind %+v", k)
	}
}
