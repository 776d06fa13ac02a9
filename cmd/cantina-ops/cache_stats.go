package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cantina-pos/cantina-ops/internal/cache"
	"github.com/cantina-pos/cantina-ops/internal/units"
	"github.com/cantina-pos/cantina-ops/tasks"
	"github.com/cantina-pos/cantina-ops/worker"
)

// runCacheStats implements `cache stats [--json]`: the cache:audit report,
// run here and now on the cache Redis (CACHE_REDIS_URL), as a table or as
// the task's JSON result.
func runCacheStats(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "cache stats", cacheUsage["stats"])
	asJSON := fs.Bool("json", false, "print the report as JSON (the cache:audit task's result)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := openDeps(a)
	if err != nil {
		return err
	}
	defer d.close()
	rep, err := worker.NewCacheAudit(d.cfg, d.cacheRedis(), d.log).Run(ctx, tasks.CacheAudit{})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, rep)
	}
	return printCacheStats(a.stdout, rep)
}

// printCacheStats writes the report as a table per kind and a summary.
func printCacheStats(w io.Writer, rep cache.AuditReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tKEYS\tMEMORY\tNO TTL\tPOLICY\tOVER POLICY\tTTL ≤1m/10m/1h/1d/7d/more")
	for _, k := range rep.Kinds {
		counts := make([]string, len(k.TTL))
		for i, b := range k.TTL {
			counts[i] = strconv.FormatInt(b.Count, 10)
		}
		keys := strconv.FormatInt(k.Sampled, 10)
		if k.Estimated != k.Sampled {
			keys = fmt.Sprintf("~%d (%d sampled)", k.Estimated, k.Sampled)
		}
		fmt.Fprintf(tw, "%s\t%s\t~%s\t%d\t%s\t%d\t%s\n", k.Kind, keys, units.Bytes(k.MemoryBytes), k.NoTTL, orDash(k.Policy), k.OverPolicy, strings.Join(counts, "/"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	scope := "every key"
	if !rep.Complete {
		scope = fmt.Sprintf("a sample of %d keys, about %d in all", rep.Sampled, rep.Estimated)
	}
	fmt.Fprintf(w, "keyspace %s: %s (%d keys in the database)\n", rep.Pattern, scope, rep.DBSize)
	s := rep.Server
	ratio := "-"
	if s.HitRatio != nil {
		ratio = fmt.Sprintf("%.1f%%", *s.HitRatio*100)
	}
	limit := "none"
	if s.MaxMemory > 0 {
		limit = units.Bytes(s.MaxMemory)
	}
	fmt.Fprintf(w, "server: hit ratio %s (%d hits, %d misses), %d evicted keys, memory %s of %s, maxmemory-policy %s\n",
		ratio, s.KeyspaceHits, s.KeyspaceMisses, s.EvictedKeys, units.Bytes(s.UsedMemory), limit, s.MaxMemoryPolicy)
	if f := rep.Findings(); f != "" {
		fmt.Fprintf(w, "attention: %s; give every cache.set a timeout and keep CACHE_TTLS in line\n", f)
	}
	return nil
}
