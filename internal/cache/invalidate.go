package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// scanCount is the COUNT hint of each SCAN and SSCAN call, and so the size
// of each UNLINK batch.
const scanCount = 1000

// Selector kinds in a Result.
const (
	KindKey     = "key"
	KindPattern = "pattern"
	KindTag     = "tag"
)

// SelectorResult is what one selector deleted.
type SelectorResult struct {
	Kind     string `json:"kind"`
	Selector string `json:"selector"`
	Deleted  int64  `json:"deleted"`
	// Skipped are tag members left alone because they are job queue keys
	// (the cache shares its Redis with the queue).
	Skipped int64 `json:"skipped,omitempty"`
}

// Result is an invalidation's outcome: what each selector deleted, the
// total, and how long it took.
type Result struct {
	Selectors  []SelectorResult `json:"selectors"`
	Deleted    int64            `json:"deleted"`
	DurationMS float64          `json:"duration_ms"`
}

// Options tune Invalidate.
type Options struct {
	// SharedWithQueue: rdb is also the queue Redis; tag members that are
	// queue keys are skipped (Validate already refuses such keys and
	// patterns).
	SharedWithQueue bool
}

// Invalidate deletes what r selects, without blocking Redis: exact keys by
// pipelined UNLINK (one round trip); patterns by SCAN MATCH … COUNT 1000
// on every master of a cluster, each batch unlinked in the round trip that
// fetches the next; tags by SSCAN of the tag's set, each batch of members
// unlinked and removed from the set (a member tagged meanwhile stays
// registered; the set disappears when emptied). Never KEYS, never DEL: the
// memory is freed in the background. Running it twice deletes nothing more
// the second time. r must be valid (Validate).
func Invalidate(ctx context.Context, rdb redis.UniversalClient, ks Keyspace, r Request, o Options) (Result, error) {
	start := time.Now()
	var res Result
	keys, err := unlinkKeys(ctx, rdb, ks, r)
	if err != nil {
		return res, err
	}
	res.Selectors = append(res.Selectors, keys...)
	for _, p := range r.Patterns {
		real, err := r.RealPattern(ks, p)
		if err != nil {
			return res, fmt.Errorf("invalidate pattern %q: %w", p, err)
		}
		n, err := unlinkPattern(ctx, rdb, real)
		if err != nil {
			return res, fmt.Errorf("invalidate pattern %q: %w", p, err)
		}
		res.Selectors = append(res.Selectors, SelectorResult{Kind: KindPattern, Selector: p, Deleted: n})
	}
	for _, t := range r.Tags {
		sr, err := unlinkTag(ctx, rdb, ks.TagSet(t), o)
		if err != nil {
			return res, fmt.Errorf("invalidate tag %q: %w", t, err)
		}
		sr.Selector = t
		res.Selectors = append(res.Selectors, sr)
	}
	for _, s := range res.Selectors {
		res.Deleted += s.Deleted
	}
	res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// unlinkKeys unlinks the exact keys in one pipeline, one UNLINK per key
// (its reply says whether that key existed; on a cluster each goes to its
// slot's master).
func unlinkKeys(ctx context.Context, rdb redis.UniversalClient, ks Keyspace, r Request) ([]SelectorResult, error) {
	if len(r.Keys) == 0 {
		return nil, nil
	}
	pipe := rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(r.Keys))
	for i, k := range r.Keys {
		cmds[i] = pipe.Unlink(ctx, r.RealKey(ks, k))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("unlink %d keys: %w", len(r.Keys), err)
	}
	out := make([]SelectorResult, len(r.Keys))
	for i, k := range r.Keys {
		out[i] = SelectorResult{Kind: KindKey, Selector: k, Deleted: cmds[i].Val()}
	}
	return out, nil
}

// unlinkPattern scans every master for pattern and unlinks what it finds.
func unlinkPattern(ctx context.Context, rdb redis.UniversalClient, pattern string) (int64, error) {
	cluster, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return scanUnlink(ctx, rdb, pattern, func(ctx context.Context, pipe redis.Pipeliner, keys []string) []*redis.IntCmd {
			return []*redis.IntCmd{pipe.Unlink(ctx, keys...)}
		})
	}
	var total atomic.Int64
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		n, err := scanUnlink(ctx, node, pattern, func(ctx context.Context, _ redis.Pipeliner, keys []string) []*redis.IntCmd {
			// A multi-key UNLINK across slots is refused: one per key,
			// each routed to its slot's master.
			pipe := cluster.Pipeline()
			cmds := make([]*redis.IntCmd, len(keys))
			for i, k := range keys {
				cmds[i] = pipe.Unlink(ctx, k)
			}
			_, _ = pipe.Exec(ctx) // each command carries its own error
			return cmds
		})
		total.Add(n)
		if err != nil {
			return fmt.Errorf("on %s: %w", node.Options().Addr, err)
		}
		return nil
	})
	return total.Load(), err
}

// unlinkFunc queues (or runs) the UNLINK of a batch of keys and returns
// the commands whose replies count what was deleted.
type unlinkFunc func(ctx context.Context, pipe redis.Pipeliner, keys []string) []*redis.IntCmd

// scanUnlink walks one node's keyspace with SCAN MATCH pattern COUNT 1000;
// each batch found is unlinked in the round trip that fetches the next.
func scanUnlink(ctx context.Context, node redis.Cmdable, pattern string, unlink unlinkFunc) (int64, error) {
	var total int64
	keys, cursor, err := node.Scan(ctx, 0, pattern, scanCount).Result()
	if err != nil {
		return 0, fmt.Errorf("scan: %w", err)
	}
	for {
		pipe := node.Pipeline()
		var unlinks []*redis.IntCmd
		if len(keys) > 0 {
			unlinks = unlink(ctx, pipe, keys)
		}
		var scan *redis.ScanCmd
		if cursor != 0 {
			scan = pipe.Scan(ctx, cursor, pattern, scanCount)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return total, fmt.Errorf("scan and unlink: %w", err)
		}
		for _, u := range unlinks {
			if err := u.Err(); err != nil {
				return total, fmt.Errorf("unlink: %w", err)
			}
			total += u.Val()
		}
		if scan == nil {
			return total, nil
		}
		keys, cursor = scan.Val()
	}
}

// unlinkTag unlinks the members of a tag's set in SSCAN batches and
// removes each batch from the set.
func unlinkTag(ctx context.Context, rdb redis.UniversalClient, set string, o Options) (SelectorResult, error) {
	res := SelectorResult{Kind: KindTag}
	var cursor uint64
	for {
		members, next, err := rdb.SScan(ctx, set, cursor, "", scanCount).Result()
		if err != nil {
			return res, fmt.Errorf("sscan %s: %w", set, err)
		}
		if len(members) > 0 {
			pipe := rdb.Pipeline()
			var unlinks []*redis.IntCmd
			for _, m := range members {
				if o.SharedWithQueue && queueKey(m) {
					res.Skipped++
					continue
				}
				unlinks = append(unlinks, pipe.Unlink(ctx, m))
			}
			pipe.SRem(ctx, set, toAny(members)...)
			if _, err := pipe.Exec(ctx); err != nil {
				return res, fmt.Errorf("unlink %d members of %s: %w", len(members), set, err)
			}
			for _, u := range unlinks {
				res.Deleted += u.Val()
			}
		}
		if cursor = next; cursor == 0 {
			return res, nil
		}
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
