package cache

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/config"
	"github.com/cantina-pos/cantina-ops/internal/conn"
	"github.com/cantina-pos/cantina-ops/internal/testenv"
)

// TestInvalidateCluster: on a three-master cluster, a pattern's keys are
// spread over every master and all of them go; exact keys and a tag's
// members, in other slots than their set, go too.
func TestInvalidateCluster(t *testing.T) {
	addrs := testenv.StartRedisCluster(t)
	ctx := context.Background()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = rdb.Close() })
	ks := Keyspace{Prefix: "pos", Version: 1}
	pipe := rdb.Pipeline()
	for i := range 3000 {
		pipe.Set(ctx, ks.Key(fmt.Sprintf("productos:%d", i)), "v", 0)
		pipe.Set(ctx, ks.Key(fmt.Sprintf("otros:%d", i)), "v", 0)
	}
	pipe.Set(ctx, ks.Key("dashboard:a"), "v", 0)
	for i := range 50 {
		pipe.Set(ctx, ks.Key(fmt.Sprintf("categoria:5:%d", i)), "v", 0)
		pipe.SAdd(ctx, ks.TagSet("categoria:5"), ks.Key(fmt.Sprintf("categoria:5:%d", i)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var masters atomic.Int64
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		if countKeys(t, node, ks.Key("productos:*")) > 0 {
			masters.Add(1) // each master holds some of the pattern's keys
		}
		return nil
	})
	if err != nil || masters.Load() != 3 {
		t.Fatalf("the pattern's keys are on %d masters (%v), want 3", masters.Load(), err)
	}
	// The audit samples every master too, through the client that
	// CACHE_REDIS_CLUSTER=true gives (one node named, the others found).
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"DATABASE_URL": "mysql://u:secret-pw@127.0.0.1:3306/pos",
			"CACHE_REDIS_URL": "redis://" + addrs[0] + "/0", "CACHE_REDIS_CLUSTER": "true"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	viaConfig := conn.CacheRedis(cfg.CacheRedis, cfg.CacheRedisCluster)
	t.Cleanup(func() { _ = viaConfig.Close() })
	rep, err := Audit(ctx, viaConfig, AuditOptions{Keyspace: ks, Policy: config.CacheTTLs{"productos": time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || rep.Sampled != 6052 || rep.DBSize != 6052 || rep.NoTTL != 6052 {
		t.Errorf("audit of the cluster: complete %v, sampled %d of %d keys, %d without TTL; want every key of the 3 masters",
			rep.Complete, rep.Sampled, rep.DBSize, rep.NoTTL)
	}

	r := Request{Keys: []string{"dashboard:a"}, Patterns: []string{"productos:*"}, Tags: []string{"categoria:5"}}
	res, err := Invalidate(ctx, viaConfig, ks, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 1+3000+50 {
		t.Errorf("deleted %d, want %d: %+v", res.Deleted, 1+3000+50, res.Selectors)
	}
	var left, others atomic.Int64
	err = rdb.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		for _, p := range []string{"productos:*", "categoria:*", "cantina_ops:tag:*", "dashboard:*"} {
			left.Add(countKeys(t, node, ks.Key(p)))
		}
		others.Add(countKeys(t, node, ks.Key("otros:*")))
		return nil
	})
	if err != nil || left.Load() != 0 || others.Load() != 3000 {
		t.Errorf("left %d selected keys and %d others (%v); want 0 and 3000", left.Load(), others.Load(), err)
	}
}

// countKeys counts one node's keys matching pattern.
func countKeys(t *testing.T, node *redis.Client, pattern string) int64 {
	var n int64
	iter := node.Scan(context.Background(), 0, pattern, 1000).Iterator()
	for iter.Next(context.Background()) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Error(err)
	}
	return n
}
