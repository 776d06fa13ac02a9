package cache

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cantina-pos/cantina-ops/internal/config"
)

// Audit defaults: the sample is bounded so that an audit of a large cache
// costs a few SCAN round trips, not a walk of every key.
const (
	DefaultAuditMaxKeys      = 20000
	DefaultAuditMemorySample = 50
	// auditMaxKinds bounds the kinds a report lists; the rest are
	// counted under OtherKind.
	auditMaxKinds  = 100
	auditScanCount = 1000
)

// Kinds that are not the first segment of a logical key.
const (
	// NoKind counts logical keys without a ":" (Django's session keys,
	// "django.contrib.sessions.cache…", are such keys).
	NoKind = "(none)"
	// OtherKind counts the kinds past the report's limit.
	OtherKind = "(other)"
)

// AuditOptions are what Audit samples and compares with.
type AuditOptions struct {
	Keyspace Keyspace
	// Policy is the longest TTL each kind should have (CACHE_TTLS).
	Policy config.CacheTTLs
	// MaxKeys bounds the sample (0: DefaultAuditMaxKeys). The scan stops
	// after the SCAN batch that reaches it.
	MaxKeys int
	// MemorySample bounds the MEMORY USAGE calls per kind (0:
	// DefaultAuditMemorySample).
	MemorySample int
}

// TTLBucket is one bar of a kind's TTL distribution: the sampled keys
// whose remaining TTL is at most Le ("inf" for the longest bar).
type TTLBucket struct {
	Le    string `json:"le"`
	Count int64  `json:"count"`
}

// ttlBounds are the upper bounds of the TTL buckets; a last bucket takes
// every longer TTL.
var ttlBounds = []struct {
	label string
	d     time.Duration
}{{"1m", time.Minute}, {"10m", 10 * time.Minute}, {"1h", time.Hour}, {"1d", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}}

// KindStats is the audit of one kind of key.
type KindStats struct {
	Kind string `json:"kind"`
	// Sampled keys of the kind, and the estimate of all of them.
	Sampled   int64 `json:"sampled"`
	Estimated int64 `json:"estimated"`
	// MemoryBytes is the approximate memory of all the kind's keys: the
	// mean MEMORY USAGE of MemorySampled of them times Estimated.
	MemoryBytes   int64 `json:"memory_bytes"`
	MemorySampled int   `json:"memory_sampled"`
	// TTL is the distribution of the sampled keys' remaining TTLs (keys
	// without a TTL are in NoTTL, not here).
	TTL   []TTLBucket `json:"ttl"`
	NoTTL int64       `json:"no_ttl"`
	// Policy is the kind's TTL in CACHE_TTLS ("" when it has none);
	// OverPolicy counts the sampled keys whose remaining TTL exceeds it.
	Policy     string `json:"policy,omitempty"`
	OverPolicy int64  `json:"over_policy"`
	// MaxTTLSeconds is the longest remaining TTL sampled.
	MaxTTLSeconds float64 `json:"max_ttl_seconds"`
}

// ServerStats are the cache Redis's own counters (INFO stats and memory).
type ServerStats struct {
	KeyspaceHits   int64 `json:"keyspace_hits"`
	KeyspaceMisses int64 `json:"keyspace_misses"`
	// HitRatio is hits / (hits + misses) since the server started; nil
	// before any lookup.
	HitRatio        *float64 `json:"hit_ratio"`
	EvictedKeys     int64    `json:"evicted_keys"`
	ExpiredKeys     int64    `json:"expired_keys"`
	UsedMemory      int64    `json:"used_memory"`
	MaxMemory       int64    `json:"maxmemory"` // 0: no limit
	MaxMemoryPolicy string   `json:"maxmemory_policy"`
}

// AuditReport is what cache:audit and `cache stats` report.
type AuditReport struct {
	Time time.Time `json:"time"`
	// Pattern is the SCAN MATCH pattern of the POS's keyspace.
	Pattern string `json:"pattern"`
	// Complete: the scan went through the whole database, the counts are
	// exact. Otherwise Estimated extrapolates from the scan's progress.
	Complete  bool  `json:"complete"`
	Sampled   int64 `json:"sampled"`
	Estimated int64 `json:"estimated"`
	// DBSize is every key of the database, the POS's and any other.
	DBSize int64 `json:"db_size"`
	// NoTTL and OverPolicy are the sampled keys without a TTL and over
	// their kind's policy, over every kind.
	NoTTL      int64       `json:"no_ttl"`
	OverPolicy int64       `json:"over_policy"`
	Kinds      []KindStats `json:"kinds"`
	Server     ServerStats `json:"server"`
}

// Audit samples the POS's keyspace in rdb with SCAN MATCH (COUNT 1000,
// bounded by o.MaxKeys) and reports per kind its key count, approximate
// memory, TTL distribution, keys without a TTL and keys over the policy,
// with the server's hit ratio, evictions and memory limits from INFO. It
// only reads: SCAN, PTTL, MEMORY USAGE, DBSIZE and INFO.
func Audit(ctx context.Context, rdb redis.Cmdable, o AuditOptions) (AuditReport, error) {
	maxKeys := cmp.Or(o.MaxKeys, DefaultAuditMaxKeys)
	memSample := cmp.Or(o.MemorySample, DefaultAuditMemorySample)
	pattern, err := o.Keyspace.Pattern("*")
	if err != nil {
		return AuditReport{}, fmt.Errorf("cache audit: %w", err)
	}
	rep := AuditReport{Time: time.Now().UTC(), Pattern: pattern, Complete: true}
	nodes, err := auditNodes(ctx, rdb)
	if err != nil {
		return rep, fmt.Errorf("cache audit: %w", err)
	}
	t := newTally(o.Keyspace, o.Policy, memSample)
	// Each node (every master of a cluster) is scanned in turn, the sample
	// bounded over all of them.
	for _, node := range nodes {
		size, err := node.DBSize(ctx).Result()
		if err != nil {
			return rep, fmt.Errorf("cache audit: dbsize: %w", err)
		}
		rep.DBSize += size
		before := t.sampled
		var cursor uint64
		for t.sampled < int64(maxKeys) {
			var keys []string
			keys, cursor, err = node.Scan(ctx, cursor, pattern, auditScanCount).Result()
			if err != nil {
				return rep, fmt.Errorf("cache audit: scan %s: %w", pattern, err)
			}
			if err := t.addBatch(ctx, node, keys); err != nil {
				return rep, err
			}
			if cursor == 0 {
				break
			}
		}
		if cursor != 0 || (t.sampled >= int64(maxKeys) && before == t.sampled && size > 0) {
			rep.Complete = false
		}
		rep.Estimated += estimateTotal(t.sampled-before, cursor, size)
		info, err := node.Info(ctx, "stats", "memory").Result()
		if err != nil {
			return rep, fmt.Errorf("cache audit: info: %w", err)
		}
		rep.Server = rep.Server.add(serverStats(parseInfo(info)))
	}
	rep.Sampled = t.sampled
	rep.Kinds = t.kindStats(rep.Estimated)
	for _, k := range rep.Kinds {
		rep.NoTTL += k.NoTTL
		rep.OverPolicy += k.OverPolicy
	}
	return rep, nil
}

// auditNodes are the servers to sample: every master of a Redis Cluster,
// else rdb itself.
func auditNodes(ctx context.Context, rdb redis.Cmdable) ([]redis.Cmdable, error) {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return []redis.Cmdable{rdb}, nil
	}
	var mu sync.Mutex
	var nodes []redis.Cmdable
	err := cc.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		nodes = append(nodes, c)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the cluster's masters: %w", err)
	}
	return nodes, nil
}

// add sums two servers' counters (the nodes of a cluster); the policy is
// the first's.
func (s ServerStats) add(o ServerStats) ServerStats {
	sum := ServerStats{
		KeyspaceHits: s.KeyspaceHits + o.KeyspaceHits, KeyspaceMisses: s.KeyspaceMisses + o.KeyspaceMisses,
		EvictedKeys: s.EvictedKeys + o.EvictedKeys, ExpiredKeys: s.ExpiredKeys + o.ExpiredKeys,
		UsedMemory: s.UsedMemory + o.UsedMemory, MaxMemory: s.MaxMemory + o.MaxMemory,
		MaxMemoryPolicy: cmp.Or(s.MaxMemoryPolicy, o.MaxMemoryPolicy),
	}
	if total := sum.KeyspaceHits + sum.KeyspaceMisses; total > 0 {
		r := float64(sum.KeyspaceHits) / float64(total)
		sum.HitRatio = &r
	}
	return sum
}

// tally accumulates the sampled keys per kind.
type tally struct {
	ks        Keyspace
	policy    config.CacheTTLs
	memSample int
	sampled   int64
	kinds     map[string]*kindTally
}

type kindTally struct {
	stats    KindStats
	buckets  []int64
	memBytes int64
}

func newTally(ks Keyspace, policy config.CacheTTLs, memSample int) *tally {
	return &tally{ks: ks, policy: policy, memSample: memSample, kinds: map[string]*kindTally{}}
}

// addBatch reads the TTL of every key of a SCAN batch, and the memory of
// those of kinds not yet sampled enough, in one pipeline.
func (t *tally) addBatch(ctx context.Context, rdb redis.Cmdable, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	pipe := rdb.Pipeline()
	ttls := make([]*redis.DurationCmd, len(keys))
	mems := make([]*redis.IntCmd, len(keys))
	planned := map[string]int{}
	for i, key := range keys {
		ttls[i] = pipe.PTTL(ctx, key)
		kind := t.kindOf(key)
		done := 0
		if k := t.kinds[kind]; k != nil {
			done = k.stats.MemorySampled
		}
		if done+planned[kind] < t.memSample {
			mems[i] = pipe.MemoryUsage(ctx, key)
			planned[kind]++
		}
	}
	// A MEMORY USAGE that fails (a key gone, the command disabled by a
	// managed Redis) only leaves that key unmeasured; a PTTL that fails
	// fails the audit.
	_, _ = pipe.Exec(ctx)
	for i, key := range keys {
		ttl, err := ttls[i].Result()
		if err != nil {
			return fmt.Errorf("cache audit: pttl of %d keys: %w", len(keys), err)
		}
		if ttl == -2 { // gone since SCAN returned it
			continue
		}
		var mem int64 = -1
		if mems[i] != nil && mems[i].Err() == nil {
			mem = mems[i].Val()
		}
		t.add(key, ttl, mem)
	}
	return nil
}

// kindOf is the kind of a real key: the first ":"-segment of its logical
// key, OtherKind past the report's limit of kinds.
func (t *tally) kindOf(key string) string {
	logical := strings.TrimPrefix(key, t.ks.Key(""))
	kind, _, ok := strings.Cut(logical, ":")
	if !ok || kind == "" {
		kind = NoKind
	}
	if _, seen := t.kinds[kind]; !seen && len(t.kinds) >= auditMaxKinds {
		return OtherKind
	}
	return kind
}

// add counts one key: ttl is its remaining TTL (-1: none), mem its MEMORY
// USAGE (-1: not measured).
func (t *tally) add(key string, ttl time.Duration, mem int64) {
	kind := t.kindOf(key)
	k := t.kinds[kind]
	if k == nil {
		k = &kindTally{stats: KindStats{Kind: kind}, buckets: make([]int64, len(ttlBounds)+1)}
		if p, ok := t.policy[kind]; ok {
			k.stats.Policy = p.String()
		}
		t.kinds[kind] = k
	}
	t.sampled++
	k.stats.Sampled++
	if mem >= 0 {
		k.stats.MemorySampled++
		k.memBytes += mem
	}
	if ttl < 0 {
		k.stats.NoTTL++
		return
	}
	k.buckets[bucketOf(ttl)]++
	k.stats.MaxTTLSeconds = max(k.stats.MaxTTLSeconds, ttl.Seconds())
	// A remaining TTL over the policy means the key was set with a longer one.
	if p, ok := t.policy[kind]; ok && ttl > p {
		k.stats.OverPolicy++
	}
}

// bucketOf is the index of ttl's bucket.
func bucketOf(ttl time.Duration) int {
	for i, b := range ttlBounds {
		if ttl <= b.d {
			return i
		}
	}
	return len(ttlBounds)
}

// kindStats are the kinds, the most keys first, scaled to estimated keys
// in all.
func (t *tally) kindStats(estimated int64) []KindStats {
	scale := 1.0
	if t.sampled > 0 {
		scale = float64(estimated) / float64(t.sampled)
	}
	out := make([]KindStats, 0, len(t.kinds))
	for _, k := range t.kinds {
		s := k.stats
		s.Estimated = int64(math.Round(float64(s.Sampled) * scale))
		if s.MemorySampled > 0 {
			s.MemoryBytes = int64(math.Round(float64(k.memBytes) / float64(s.MemorySampled) * float64(s.Estimated)))
		}
		s.TTL = make([]TTLBucket, len(k.buckets))
		for i, n := range k.buckets {
			le := "inf"
			if i < len(ttlBounds) {
				le = ttlBounds[i].label
			}
			s.TTL[i] = TTLBucket{Le: le, Count: n}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b KindStats) int {
		if a.Sampled != b.Sampled {
			return int(b.Sampled - a.Sampled)
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	return out
}

// estimateTotal extrapolates the keys matching the pattern from those
// sampled when a scan stopped at cursor (0: it completed, the count is
// exact). Redis's SCAN walks the hash table in reverse-binary order of
// bucket index, so the low b bits of the cursor, reversed, are the
// fraction of the table already visited, for any 2^b not above the
// table's size; dbSize gives that b (a table holds about as many buckets
// as keys, rounded up to a power of two).
func estimateTotal(sampled int64, cursor uint64, dbSize int64) int64 {
	if cursor == 0 || dbSize <= 1 {
		return sampled
	}
	b := bits.Len64(uint64(dbSize-1)) - 1 // a power of two at most the table's size
	if b < 1 {
		return sampled
	}
	visited := bits.Reverse64(cursor&(1<<b-1)) >> (64 - b)
	if visited == 0 {
		return sampled
	}
	est := int64(math.Round(float64(sampled) * float64(uint64(1)<<b) / float64(visited)))
	return min(max(est, sampled), dbSize)
}

// parseInfo splits INFO's "field:value" lines.
func parseInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

func serverStats(info map[string]string) ServerStats {
	n := func(k string) int64 {
		v, _ := strconv.ParseInt(info[k], 10, 64)
		return v
	}
	s := ServerStats{
		KeyspaceHits: n("keyspace_hits"), KeyspaceMisses: n("keyspace_misses"),
		EvictedKeys: n("evicted_keys"), ExpiredKeys: n("expired_keys"),
		UsedMemory: n("used_memory"), MaxMemory: n("maxmemory"), MaxMemoryPolicy: info["maxmemory_policy"],
	}
	if total := s.KeyspaceHits + s.KeyspaceMisses; total > 0 {
		r := float64(s.KeyspaceHits) / float64(total)
		s.HitRatio = &r
	}
	return s
}

// Findings says, in one line, what an administrator should act on: keys
// without a TTL and keys over the policy, per kind; "" when none.
func (r AuditReport) Findings() string {
	var parts []string
	for _, k := range r.Kinds {
		if k.NoTTL > 0 {
			parts = append(parts, fmt.Sprintf("%d %s keys without TTL", k.NoTTL, k.Kind))
		}
		if k.OverPolicy > 0 {
			parts = append(parts, fmt.Sprintf("%d %s keys over the policy of %s", k.OverPolicy, k.Kind, k.Policy))
		}
	}
	return strings.Join(parts, ", ")
}
