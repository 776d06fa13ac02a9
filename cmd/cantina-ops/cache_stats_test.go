package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestCacheStatsCommand: `cache stats` finds planted keys without a TTL
// and over CACHE_TTLS in the cache Redis, as a table and as JSON.
func TestCacheStatsCommand(t *testing.T) {
	queue, cacheDB := testenv.Redis(t), testenv.Redis(t)
	ctx := context.Background()
	c := cacheDB.Client(t)
	ks := cache.Keyspace{Prefix: "pos", Version: 1}
	plant := map[string]time.Duration{"productos:1": time.Minute, "productos:2": 3 * time.Hour, "sesiones:1": 0, "dashboard:1": 30 * time.Second}
	for k, ttl := range plant {
		if err := c.Set(ctx, ks.Key(k), "v", ttl).Err(); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"REDIS_URL": queue.URL(), "CACHE_REDIS_URL": cacheDB.URL(), "DATABASE_URL": "mysql://cantina:unused@127.0.0.1:1/cantina",
		"CACHE_KEY_PREFIX": "pos", "CACHE_TTLS": "productos=5m,dashboard=1m"}

	out, err := binCmd(t, env, "cache", "stats").Output()
	if err != nil {
		t.Fatalf("cache stats: %v\n%s", err, out)
	}
	for _, want := range []string{"KIND", "productos", "sesiones", "keyspace pos:1:*: every key (4 keys in the database)", "hit ratio", "maxmemory-policy",
		"attention: 1 productos keys over the policy of 5m0s, 1 sesiones keys without TTL"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("cache stats output lacks %q:\n%s", want, out)
		}
	}

	out, err = binCmd(t, env, "cache", "stats", "--json").Output()
	if err != nil {
		t.Fatalf("cache stats --json: %v\n%s", err, out)
	}
	var rep cache.AuditReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Sampled != 4 || rep.NoTTL != 1 || rep.OverPolicy != 1 || len(rep.Kinds) != 3 {
		t.Errorf("report %s", out)
	}
}
